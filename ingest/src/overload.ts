import type { MiddlewareHandler } from 'hono'
import type { IngestMetrics } from './metrics.js'
import { markReason } from './request-metrics.js'

/** Seconds a client is asked to wait after a 503 that named no wait of its own (backpressure, shutting down, overloaded). */
export const DEFAULT_RETRY_AFTER_SECONDS = 1

/**
 * Bounded concurrency at the edge: past `maxInFlight` POSTs being handled, answer 503 + Retry-After
 * at once rather than queue (each waiting request holds a socket and up to a body of memory).
 * Also makes sure every 503 carries Retry-After, whichever error produced it.
 */
export function shedLoad(metrics: IngestMetrics, maxInFlight: number | undefined): MiddlewareHandler {
  let inFlight = 0
  return async (c, next) => {
    if (c.req.method !== 'POST') return next()
    if (maxInFlight !== undefined && inFlight >= maxInFlight) {
      markReason(c, 'overloaded')
      return c.json({ error: 'overloaded', message: `more than ${maxInFlight} requests in flight` }, 503, { 'Retry-After': String(DEFAULT_RETRY_AFTER_SECONDS) })
    }
    inFlight++
    metrics.inFlight.set(inFlight)
    try {
      await next()
    } finally {
      inFlight--
      metrics.inFlight.set(inFlight)
    }
    if (c.res.status === 503 && !c.res.headers.has('Retry-After')) c.res.headers.set('Retry-After', String(DEFAULT_RETRY_AFTER_SECONDS))
  }
}
