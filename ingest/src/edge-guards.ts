import type { Context, Hono } from 'hono'
import ipaddr from 'ipaddr.js'
import { type TrustFn, addressKey, requestClientIp } from '@atspark/runtime'
import { shedLoad } from './overload.js'
import { limitAddress, type RateLimitDeps } from './rate-limit.js'
import { requestMetrics } from './request-metrics.js'

export interface EdgeGuardDeps extends RateLimitDeps {
  /** POST requests handled at once before 503 + Retry-After; unset means no bound (unit tests). */
  maxInFlight?: number
  /** POST requests one client address (IPv6 by /64) may have in flight before 429 too_many_in_flight; unset: no bound. */
  maxInFlightPerAddress?: number
  /** Client addresses the per-address in-flight bound skips (RATE_LIMIT_ADDRESS_EXEMPT: one address standing for many clients). */
  addressExempt?: TrustFn
}

/**
 * Mounts, in front of each write route and outermost first: request counting, load shedding
 * past the in-flight bounds (per address, then in total), and the per-address rate limit (before
 * the body is read). The per-write-key limit needs the parsed body, so the handlers apply it (`limitWriteKey`).
 */
export function mountEdgeGuards(app: Hono, deps: EdgeGuardDeps, routes: Readonly<Record<string, string>>): void {
  const { addressExempt } = deps
  const addressOf = (c: Context): string | undefined => {
    const ip = requestClientIp(c, deps.trust)
    return addressExempt && ipaddr.isValid(ip) && addressExempt(ip, 0) ? undefined : addressKey(ip)
  }
  const shed = shedLoad(deps.metrics, { maxInFlight: deps.maxInFlight, maxPerAddress: deps.maxInFlightPerAddress, addressOf })
  const byAddress = limitAddress(deps)
  for (const [route, path] of Object.entries(routes)) app.use(path, requestMetrics(deps.metrics, route), shed, byAddress)
}
