import type { Context, MiddlewareHandler } from 'hono'
import ipaddr from 'ipaddr.js'
import { compileTrust, type TrustFn } from './client-ip.js'
import { EventOutcome, type IngestMetrics } from './metrics.js'
import { requestClientIp } from './request-info.js'
import { markReason } from './request-metrics.js'
import { TokenBuckets } from './token-bucket.js'

/** Which bucket refused a request; the 429 body names it. */
export const RateLimitName = { writeKey: 'write_key', clientAddress: 'client_address' } as const
export type RateLimitName = (typeof RateLimitName)[keyof typeof RateLimitName]

export interface RateLimitOptions {
  /** Sustained requests/s per write key; 0 turns the limit off. */
  keyRps: number
  keyBurst: number
  /** Sustained requests/s per client address; 0 turns the limit off. */
  addressRps: number
  addressBurst: number
  /** Addresses the address limit skips (same syntax as TRUSTED_PROXIES). */
  addressExempt: readonly string[]
  /** Buckets remembered per limit. */
  maxTracked: number
}

/** What `createIngestApp` needs to apply the limits: the resolved client address uses its trusted-proxy rules. */
export interface RateLimitDeps {
  rateLimits?: RateLimits
  trust: TrustFn
  metrics: IngestMetrics
}

/**
 * Token buckets per write key and per client address. Per process: N ingest instances behind a
 * balancer allow N times the configured rate in total.
 */
export class RateLimits {
  private readonly byKey: TokenBuckets | undefined
  private readonly byAddress: TokenBuckets | undefined
  private readonly exempt: TrustFn | undefined

  constructor(options: RateLimitOptions, now?: () => number) {
    const bucket = (rps: number, burst: number) => (rps > 0 ? new TokenBuckets({ ratePerSecond: rps, burst, maxKeys: options.maxTracked }, now) : undefined)
    this.byKey = bucket(options.keyRps, options.keyBurst)
    this.byAddress = bucket(options.addressRps, options.addressBurst)
    this.exempt = options.addressExempt.length ? compileTrust(options.addressExempt) : undefined
  }

  /** Milliseconds until the key may send again, or undefined when it may now. */
  takeKey(writeKey: string): number | undefined {
    const take = this.byKey?.take(writeKey)
    return take && !take.ok ? take.retryAfterMs : undefined
  }

  /** Milliseconds until the address may send again, or undefined when it may now (or is exempt). */
  takeAddress(ip: string): number | undefined {
    if (!this.byAddress) return undefined
    if (this.exempt && ipaddr.isValid(ip) && this.exempt(ip, 0)) return undefined
    const take = this.byAddress.take(addressKey(ip))
    return take.ok ? undefined : take.retryAfterMs
  }
}

/**
 * The bucket key of an address: IPv4 as is, IPv6 by its /64 (one subscriber's network, which
 * hands out addresses freely, so per-address buckets would be trivial to dodge).
 */
export function addressKey(ip: string): string {
  const s = ip.trim()
  if (!ipaddr.isValid(s)) return 'invalid'
  const parsed = ipaddr.process(s)
  if (parsed.kind() === 'ipv4') return parsed.toString()
  const bytes = parsed.toByteArray().slice(0, 8)
  return `${ipaddr.fromByteArray([...bytes, 0, 0, 0, 0, 0, 0, 0, 0]).toString()}/64`
}

/** Per client address, before the body is read: a flood costs us no parsing. */
export function limitAddress(deps: RateLimitDeps): MiddlewareHandler {
  return async (c, next) => {
    const limits = deps.rateLimits
    if (!limits) return next()
    const ip = requestClientIp(c, deps.trust)
    const waitMs = limits.takeAddress(ip)
    if (waitMs === undefined) return next()
    return tooManyRequests(c, deps.metrics, RateLimitName.clientAddress, waitMs)
  }
}

/**
 * Per write key, once the batch names a known site: a 429 answer, or undefined to go on.
 * `events` (all of the batch, valid or not) are counted as dropped_rate_limited when refused.
 */
export function limitWriteKey(c: Context, deps: RateLimitDeps, writeKey: string, events: number): Response | undefined {
  const waitMs = deps.rateLimits?.takeKey(writeKey)
  if (waitMs === undefined) return undefined
  if (events > 0) deps.metrics.events.inc({ outcome: EventOutcome.droppedRateLimited }, events)
  return tooManyRequests(c, deps.metrics, RateLimitName.writeKey, waitMs)
}

function tooManyRequests(c: Context, metrics: IngestMetrics, limit: RateLimitName, waitMs: number): Response {
  metrics.rateLimited.inc({ limit })
  markReason(c, 'rate_limited')
  // Whole seconds, at least 1: the SDK waits at least this long before its retry.
  const seconds = Math.max(1, Math.ceil(waitMs / 1000))
  return c.json({ error: 'rate_limited', limit, message: `too many requests for this ${limit.replace('_', ' ')}; retry after ${seconds} s` }, 429, {
    'Retry-After': String(seconds),
  })
}
