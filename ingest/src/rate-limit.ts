import type { Context, MiddlewareHandler } from 'hono'
import ipaddr from 'ipaddr.js'
import { addressKey, compileTrust, type TrustFn, requestClientIp, TokenBuckets } from '@atspark/runtime'
import { EventOutcome, type IngestMetrics } from './metrics.js'
import { markReason } from './request-metrics.js'

/** Which bucket refused a request; the 429 body names it. */
export const RateLimitName = { writeKey: 'write_key', keyAddress: 'key_address', clientAddress: 'client_address' } as const
export type RateLimitName = (typeof RateLimitName)[keyof typeof RateLimitName]

export interface RateLimitOptions {
  /** Sustained requests/s per write key; 0 turns the limit off. */
  keyRps: number
  keyBurst: number
  /**
   * The share of a write key's bucket one client address may spend (rate and burst, burst at least 1),
   * so a few addresses cannot take a site's whole budget; 1 turns it off. Exempt addresses skip it.
   */
  keyAddressShare: number
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
  /** Per (write key, client address): each address's share of its key's bucket. */
  private readonly byKeyAddress: TokenBuckets | undefined
  private readonly byAddress: TokenBuckets | undefined
  private readonly exempt: TrustFn | undefined

  constructor(options: RateLimitOptions, now?: () => number) {
    const bucket = (rps: number, burst: number) => (rps > 0 ? new TokenBuckets({ ratePerSecond: rps, burst, maxKeys: options.maxTracked }, now) : undefined)
    this.byKey = bucket(options.keyRps, options.keyBurst)
    const share = options.keyAddressShare
    this.byKeyAddress = share < 1 ? bucket(options.keyRps * share, Math.max(1, Math.ceil(options.keyBurst * share))) : undefined
    this.byAddress = bucket(options.addressRps, options.addressBurst)
    this.exempt = options.addressExempt.length ? compileTrust(options.addressExempt) : undefined
  }

  /**
   * Spends one request of the key's budget for a batch that stores something: the address's share
   * first, then the key's bucket (the share is given back when the key refuses, so a refusal costs
   * nothing). Undefined when the request may go on, else the limit that refused and the wait.
   */
  takeKey(writeKey: string, ip: string): { limit: RateLimitName; waitMs: number } | undefined {
    const shareKey = this.byKeyAddress && !this.isExempt(ip) ? `${writeKey}\u0000${addressKey(ip)}` : undefined
    if (shareKey !== undefined) {
      const share = this.byKeyAddress?.take(shareKey)
      if (share && !share.ok) return { limit: RateLimitName.keyAddress, waitMs: share.retryAfterMs }
    }
    const take = this.byKey?.take(writeKey)
    if (!take || take.ok) return undefined
    if (shareKey !== undefined) this.byKeyAddress?.refund(shareKey)
    return { limit: RateLimitName.writeKey, waitMs: take.retryAfterMs }
  }

  /** Milliseconds until the address may send again, or undefined when it may now (or is exempt). */
  takeAddress(ip: string): number | undefined {
    if (!this.byAddress || this.isExempt(ip)) return undefined
    const take = this.byAddress.take(addressKey(ip))
    return take.ok ? undefined : take.retryAfterMs
  }

  private isExempt(ip: string): boolean {
    return this.exempt !== undefined && ipaddr.isValid(ip) && this.exempt(ip, 0)
  }
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
 * Per write key (and the client address's share of it), once the batch names a known site and is
 * known to store something: the handlers call this only for batches the consent gate kept events
 * of, and for receipts, so refused or fully dropped batches never spend a site's budget.
 * A 429 answer, or undefined to go on; `events` (all of the batch, valid or not) are counted as
 * dropped_rate_limited when refused.
 */
export function limitWriteKey(c: Context, deps: RateLimitDeps, writeKey: string, events: number): Response | undefined {
  const limits = deps.rateLimits
  if (!limits) return undefined
  const refused = limits.takeKey(writeKey, requestClientIp(c, deps.trust))
  if (refused === undefined) return undefined
  if (events > 0) deps.metrics.events.inc({ outcome: EventOutcome.droppedRateLimited }, events)
  return tooManyRequests(c, deps.metrics, refused.limit, refused.waitMs)
}

const REFUSED_FOR: Record<RateLimitName, string> = {
  write_key: 'this write key',
  key_address: 'this write key from this address',
  client_address: 'this client address',
}

function tooManyRequests(c: Context, metrics: IngestMetrics, limit: RateLimitName, waitMs: number): Response {
  metrics.rateLimited.inc({ limit })
  markReason(c, 'rate_limited')
  // Whole seconds, at least 1: the SDK waits at least this long before its retry.
  const seconds = Math.max(1, Math.ceil(waitMs / 1000))
  return c.json({ error: 'rate_limited', limit, message: `too many requests for ${REFUSED_FOR[limit]}; retry after ${seconds} s` }, 429, {
    'Retry-After': String(seconds),
  })
}
