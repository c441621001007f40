import type { Context, MiddlewareHandler } from 'hono'
import type { IngestMetrics } from './metrics.js'
import { markReason } from './request-metrics.js'

/** Seconds a client is asked to wait after a 503 that named no wait of its own (backpressure, shutting down, overloaded). */
export const DEFAULT_RETRY_AFTER_SECONDS = 1

export interface InFlightBounds {
  /** POSTs handled at once in total; unset: no bound. */
  maxInFlight?: number
  /** POSTs one client address may have in flight; unset: no per-address bound. */
  maxPerAddress?: number
  /** The key a request counts against for `maxPerAddress` (its client address), or undefined when it is exempt. */
  addressOf?: (c: Context) => string | undefined
}

/**
 * Bounded concurrency at the edge: past `maxInFlight` POSTs being handled, answer 503 + Retry-After
 * at once rather than queue (each waiting request holds a socket and up to a body of memory).
 * One address past its own share gets 429 first, and takes no shared slot: slow uploads from a few
 * addresses cannot hold every slot and turn everyone else away.
 * Also makes sure every 503 carries Retry-After, whichever error produced it.
 */
export function shedLoad(metrics: IngestMetrics, bounds: InFlightBounds = {}): MiddlewareHandler {
  const { maxInFlight, maxPerAddress, addressOf } = bounds
  let inFlight = 0
  const byAddress = new Map<string, number>()
  return async (c, next) => {
    if (c.req.method !== 'POST') return next()
    const address = maxPerAddress === undefined ? undefined : addressOf?.(c)
    const held = address === undefined ? 0 : (byAddress.get(address) ?? 0)
    if (address !== undefined && maxPerAddress !== undefined && held >= maxPerAddress) {
      markReason(c, 'too_many_in_flight')
      return c.json({ error: 'too_many_in_flight', message: `more than ${maxPerAddress} requests in flight from this address` }, 429, {
        'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS),
      })
    }
    if (maxInFlight !== undefined && inFlight >= maxInFlight) {
      markReason(c, 'overloaded')
      return c.json({ error: 'overloaded', message: `more than ${maxInFlight} requests in flight` }, 503, { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) })
    }
    inFlight++
    if (address !== undefined) byAddress.set(address, held + 1)
    metrics.inFlight.set(inFlight)
    try {
      await next()
    } finally {
      inFlight--
      if (address !== undefined) {
        const left = (byAddress.get(address) ?? 1) - 1
        if (left > 0) byAddress.set(address, left)
        else byAddress.delete(address)
      }
      metrics.inFlight.set(inFlight)
    }
    if (c.res.status === 503 && !c.res.headers.has('Retry-After')) c.res.headers.set('Retry-After', String(DEFAULT_RETRY_AFTER_SECONDS))
  }
}
