import { BATCH_PATH, type Envelope, LIMITS } from '@atspark/schemas'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { assertBatchMediaType, parseBatch } from './body.js'
import type { Bus } from './bus.js'
import { clientIp, type TrustFn } from './client-ip.js'
import { enforceConsent } from './consent-gate.js'
import { BusUnavailableError, ForbiddenError, IngestError, PayloadTooLargeError, UnauthorizedError } from './errors.js'
import type { Logger } from './logger.js'
import type { IngestMetrics } from './metrics.js'
import { sdkScriptRoute } from './sdk-script.js'
import type { TenantDirectory } from './tenants.js'

export interface IngestDeps {
  /** A getter so a reload swaps the directory without rebuilding the app. */
  tenants: () => TenantDirectory
  bus: Bus
  trust: TrustFn
  metrics: IngestMetrics
  logger: Logger
  bodyLimitBytes?: number
  now?: () => number
}

export interface BatchAccepted {
  accepted: number
  dropped: number
  dropped_reason?: string
  rejected: { index: number; reason: string }[]
}

/** The public edge: it can write events to the bus and do nothing else. */
export function createIngestApp(deps: IngestDeps): Hono {
  const { bus, metrics, logger } = deps
  const limit = deps.bodyLimitBytes ?? LIMITS.bodyBytes
  const now = deps.now ?? Date.now
  const app = new Hono()

  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', (c) => (bus.ready() ? c.json({ ready: true }) : c.json({ ready: false }, 503)))
  app.get('/sdk/atspark.min.js', sdkScriptRoute())

  app.use(
    BATCH_PATH,
    cors({
      // Any configured site's origin may preflight; the per-site check happens on the POST.
      origin: (origin) => (deps.tenants().allOrigins.has(origin.toLowerCase()) ? origin : null),
      allowMethods: ['POST'],
      allowHeaders: ['Content-Type'],
      // The SDK reads Retry-After on 429/503 to pace its retries.
      exposeHeaders: ['Retry-After'],
      maxAge: 86_400,
      credentials: false,
    }),
  )
  app.post(
    BATCH_PATH,
    bodyLimit({
      maxSize: limit,
      onError: () => {
        throw new PayloadTooLargeError(limit)
      },
    }),
    async (c) => {
      assertBatchMediaType(c.req.header('content-type'))
      const { batch, events, rejected } = parseBatch(await c.req.text())
      const ref = deps.tenants().site(batch.k)
      if (!ref) throw new UnauthorizedError('unknown write key')
      const origin = c.req.header('origin')?.toLowerCase()
      if (!origin) throw new ForbiddenError('Origin header required')
      if (!ref.site.allowed_origins.includes(origin)) throw new ForbiddenError(`origin ${origin} is not allowed for this site`)

      const gate = enforceConsent(events, batch.c, { dnt: c.req.header('dnt'), secGpc: c.req.header('sec-gpc') })
      if (rejected.length) metrics.events.inc({ outcome: 'rejected' }, rejected.length)
      if (gate.reason) metrics.events.inc({ outcome: `dropped_${gate.reason}` }, gate.dropped)
      const body: BatchAccepted = { accepted: gate.kept.length, dropped: gate.dropped, rejected }
      if (gate.reason) body.dropped_reason = gate.reason
      if (gate.kept.length === 0) {
        metrics.requests.inc({ status: '202' })
        return c.json(body, 202)
      }

      const envelope: Envelope = {
        v: 1,
        org_id: ref.orgId,
        site_id: ref.site.id,
        received_at: now(),
        sent_at: batch.sa,
        ip: clientIp(socketAddress(c), c.req.header('x-forwarded-for'), deps.trust),
        ua: (c.req.header('user-agent') ?? '').slice(0, LIMITS.userAgentLength),
        policy_revision: batch.c.r,
        events: gate.kept,
      }
      if (envelope.policy_revision === undefined) delete envelope.policy_revision
      const stop = metrics.publishSeconds.startTimer()
      try {
        await bus.publish([envelope])
      } catch (err) {
        throw err instanceof IngestError ? err : new BusUnavailableError('bus did not accept the batch', { cause: err })
      } finally {
        stop()
      }
      metrics.events.inc({ outcome: 'accepted' }, gate.kept.length)
      metrics.requests.inc({ status: '202' })
      return c.json(body, 202)
    },
  )

  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  app.onError((err, c) => {
    const status = err instanceof IngestError ? err.status : 500
    if (c.req.path === BATCH_PATH) metrics.requests.inc({ status: String(status) })
    if (err instanceof BusUnavailableError) {
      logger.warn({ err: err.cause ?? err }, 'bus unavailable')
      c.header('Retry-After', String(err.retryAfterSeconds))
    }
    if (err instanceof IngestError) return c.json({ error: err.code, message: err.message }, err.status)
    logger.error({ err }, 'unhandled ingest error')
    return c.json({ error: 'internal', message: 'internal error' }, 500)
  })
  return app
}

/** Socket peer of the request; empty under `app.request()` without node bindings. */
function socketAddress(c: Parameters<typeof getConnInfo>[0]): string {
  try {
    return getConnInfo(c).remote.address ?? ''
  } catch {
    return ''
  }
}
