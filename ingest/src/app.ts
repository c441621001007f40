import { BATCH_PATH, type BusMessage, CONSENT_PATH, type Envelope, LIMITS } from '@atspark/schemas'
import type { IncomingMessage } from 'node:http'
import { type Context, Hono } from 'hono'
import { assertBatchMediaType, noValidEvent, parseBatch, parseReceipt, type RejectedEvent, readJson, readJsonBody } from './body.js'
import { assembleEnvelopeJson, topLevelArrayText } from './bus-json.js'
import { type Bus, type TrustFn, answerJson, edgeHeaders, siteCors, BusUnavailableError, ForbiddenError, IngestError, UnauthorizedError, type IpKeyring, SEALED_IP_PLAINTEXT_BYTES, sealIp, type Logger, nodeIncoming, requestClientIp, requestHeader, type SiteRef, type TenantDirectory } from '@atspark/runtime'
import { enforceConsent } from './consent-gate.js'
import { mountEdgeGuards } from './edge-guards.js'
import type { IngestMetrics } from './metrics.js'
import { limitWriteKey, type RateLimits } from './rate-limit.js'
import { SDK_BUNDLES, sdkScriptRoute } from './sdk-script.js'

export interface IngestDeps {
  /** A getter so a reload swaps the directory without rebuilding the app. */
  tenants: () => TenantDirectory
  bus: Bus
  trust: TrustFn
  /** A getter so a SIGHUP swaps the IP keys without rebuilding the app; ingest seals with its active key. */
  ipKeyring: () => IpKeyring
  metrics: IngestMetrics
  logger: Logger
  bodyLimitBytes?: number
  now?: () => number
  /** Token buckets per write key and client address (429); unset: no rate limits. */
  rateLimits?: RateLimits
  /** POST requests handled at once before 503 + Retry-After; unset: no bound. */
  maxInFlight?: number
  /** POST requests one client address may have in flight before 429 too_many_in_flight; unset: no bound (edge-guards.ts). */
  maxInFlightPerAddress?: number
  /** Client addresses the per-address in-flight bound skips (RATE_LIMIT_ADDRESS_EXEMPT). */
  addressExempt?: TrustFn
}

export interface BatchAccepted {
  accepted: number
  dropped: number
  dropped_reason?: string
  rejected: RejectedEvent[]
}

/** The public edge: it can write events to the bus and do nothing else. */
export function createIngestApp(deps: IngestDeps): Hono {
  const { bus, metrics, logger } = deps
  const limit = deps.bodyLimitBytes ?? LIMITS.bodyBytes
  const now = deps.now ?? Date.now
  const app = new Hono()
  // Outermost, before any route: every answer (404s and errors too) carries the security headers.
  app.use('*', edgeHeaders(deps.trust))

  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', (c) => (bus.ready() ? c.json({ ready: true }) : c.json({ ready: false }, 503)))
  for (const bundle of SDK_BUNDLES) app.get(`/sdk/${bundle}`, sdkScriptRoute(bundle))

  // Any configured site's origin may preflight (others get 403); the per-site check happens on the POST.
  const corsForSites = siteCors(() => deps.tenants().allOrigins)
  app.use(BATCH_PATH, corsForSites)
  app.use(CONSENT_PATH, corsForSites)
  // Request metrics, load shedding and the per-address limit, in front of both write routes (ingest/src/edge-guards.ts).
  mountEdgeGuards(app, deps, { batch: BATCH_PATH, consent: CONSENT_PATH })

  /** Write key → site (401), then the Origin must be one of that site's (403). */
  const authorize = (c: Context, writeKey: string): SiteRef => {
    const ref = deps.tenants().site(writeKey)
    if (!ref) throw new UnauthorizedError('unknown write key')
    const origin = requestHeader(c, 'origin')?.toLowerCase()
    if (!origin) throw new ForbiddenError('Origin header required')
    if (!ref.site.allowed_origins.includes(origin)) throw new ForbiddenError(`origin ${origin} is not allowed for this site`)
    return ref
  }

  const publish = async (messages: BusMessage[]): Promise<void> => {
    const stop = metrics.publishSeconds.startTimer()
    try {
      await bus.publish(messages)
    } catch (err) {
      throw err instanceof IngestError ? err : new BusUnavailableError('bus did not accept the batch', { cause: err })
    } finally {
      stop()
    }
  }

  app.post(BATCH_PATH, async (c) => {
    assertBatchMediaType(requestHeader(c, 'content-type'))
    // Size, encoding, UTF-8 and depth limits apply while reading, before anything is parsed (body.ts).
    const body = await readJsonBody(bodySource(c), limit)
    const { batch, events, rejected, verbatim } = parseBatch(body.json)
    const ref = authorize(c, batch.k)
    metrics.eventsReceived.inc(events.length + rejected.length)
    const gate = enforceConsent(events, batch.c, { dnt: requestHeader(c, 'dnt'), secGpc: requestHeader(c, 'sec-gpc') })
    // Only a batch that stores something spends the site's budget: refused or wholly dropped ones cost it nothing,
    // so nobody can exhaust a write key with batches that are never kept (the address limit still bounds them).
    if (gate.kept.length > 0) {
      const limited = limitWriteKey(c, deps, batch.k, events.length + rejected.length)
      if (limited) return limited
    }
    for (const r of rejected) metrics.events.inc({ outcome: 'rejected', reason: r.code })
    if (events.length === 0) throw noValidEvent(rejected)
    if (gate.reason) metrics.events.inc({ outcome: `dropped_${gate.reason}` }, gate.dropped)
    const answer: BatchAccepted = { accepted: gate.kept.length, dropped: gate.dropped, rejected }
    if (gate.reason) answer.dropped_reason = gate.reason
    if (gate.kept.length > 0) {
      const envelope: Envelope = {
        v: 1,
        kind: 'events',
        org_id: ref.orgId,
        site_id: ref.site.id,
        received_at: now(),
        sent_at: batch.sa,
        ip_sealed: sealClientIp(c, deps, { orgId: ref.orgId, siteId: ref.site.id }),
        ua: (requestHeader(c, 'user-agent') ?? '').slice(0, LIMITS.userAgentLength),
        events: gate.kept,
      }
      if (batch.c.r !== undefined) envelope.policy_revision = batch.c.r
      // Every event kept as sent: the bus can send the request's own bytes for them instead of re-serializing.
      if (bus.sendsJson && body.exact && verbatim && gate.dropped === 0) {
        const eventsText = topLevelArrayText(body.text, 'e')
        if (eventsText !== undefined) assembleEnvelopeJson(envelope, eventsText)
      }
      try {
        await publish([envelope])
      } catch (err) {
        metrics.events.inc({ outcome: 'dropped_unavailable' }, gate.kept.length)
        throw err
      }
      metrics.events.inc({ outcome: 'accepted' }, gate.kept.length)
    }
    return answerJson(c, 202, answer)
  })

  // Receipts are essential: no analytics gate, no DNT/GPC drop, and nothing about the visitor is stamped.
  app.post(CONSENT_PATH, async (c) => {
    assertBatchMediaType(requestHeader(c, 'content-type'))
    const { k, ...receipt } = parseReceipt(await readJson(bodySource(c), limit))
    const ref = authorize(c, k)
    const limited = limitWriteKey(c, deps, k, 0)
    if (limited) return limited
    await publish([{ v: 1, kind: 'consent', org_id: ref.orgId, site_id: ref.site.id, received_at: now(), receipt }])
    metrics.receipts.inc()
    return answerJson(c, 202, { accepted: 1 })
  })

  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  app.onError((err, c) => {
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

/** The client address, sealed at once: the plain address never leaves this function. */
function sealClientIp(c: Context, deps: IngestDeps, tenant: { orgId: string; siteId: string }): string {
  const ip = requestClientIp(c, deps.trust)
  // No socket or proxy yields longer; anything else is not an address and is sealed as unknown.
  const usable = Buffer.byteLength(ip) <= SEALED_IP_PLAINTEXT_BYTES && !ip.includes('\0') ? ip : ''
  return sealIp(usable, deps.ipKeyring(), tenant)
}

/**
 * Node's IncomingMessage when served by @hono/node-server and nothing read the body yet: reading it
 * directly skips the undici Request that `c.req.raw.body` would build. Else (app.request()) the web Request.
 */
function bodySource(c: Context): Request | IncomingMessage {
  const incoming = nodeIncoming(c)
  return incoming && !incoming.readableDidRead ? incoming : c.req.raw
}
