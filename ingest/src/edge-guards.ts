import type { Hono } from 'hono'
import { shedLoad } from './overload.js'
import { limitAddress, type RateLimitDeps } from './rate-limit.js'
import { requestMetrics } from './request-metrics.js'

export interface EdgeGuardDeps extends RateLimitDeps {
  /** POST requests handled at once before 503 + Retry-After; unset means no bound (unit tests). */
  maxInFlight?: number
}

/**
 * Mounts, in front of each write route and outermost first: request counting, load shedding
 * past the in-flight bound, and the per-address rate limit (before the body is read).
 * The per-write-key limit needs the parsed body, so the handlers apply it (`limitWriteKey`).
 */
export function mountEdgeGuards(app: Hono, deps: EdgeGuardDeps, routes: Readonly<Record<string, string>>): void {
  const shed = shedLoad(deps.metrics, deps.maxInFlight)
  const byAddress = limitAddress(deps)
  for (const [route, path] of Object.entries(routes)) app.use(path, requestMetrics(deps.metrics, route), shed, byAddress)
}
