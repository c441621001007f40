import type { Context, MiddlewareHandler } from 'hono'
import { IngestError } from '@atspark/runtime'
import type { IngestMetrics } from './metrics.js'

/** Reasons set by middleware that answers by itself (no error thrown), keyed by the request. */
const reasons = new WeakMap<Request, string>()

/** Names why this request got the answer it got, for `atspark_ingest_requests_total{reason}`. */
export function markReason(c: Context, reason: string): void {
  reasons.set(c.req.raw, reason)
}

/** The reason label of an answer: the error code of a thrown IngestError, a marked reason, or accepted/internal. */
function reasonOf(c: Context): string {
  const marked = reasons.get(c.req.raw)
  if (marked) return marked
  if (c.error instanceof IngestError) return c.error.code
  if (c.error) return 'internal'
  return c.res.status < 400 ? 'accepted' : `http_${c.res.status}`
}

/** Counts every POST answer by status and reason, and times it; mounted outermost so nothing escapes it. */
export function requestMetrics(metrics: IngestMetrics, route: string): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'POST') return next()
    const stop = metrics.requestSeconds.startTimer({ route })
    try {
      await next()
    } finally {
      stop()
      metrics.requests.inc({ status: String(c.res.status), reason: reasonOf(c) })
    }
  }
}
