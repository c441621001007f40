import { randomUUID } from 'node:crypto'
import { type ApiKeyRef, type Logger, type TenantDirectory, type TrustFn, type Pseudonymize, subjectHash } from '@atspark/runtime'
import {
  type ApiKeyRole,
  ExportFormat,
  type PrivacyRequestKind,
  type PrivacyRequestRow,
  type PrivacyRequestStatus,
  PrivacySubject,
  type SubjectKind,
  toWarehouseTime,
} from '@atspark/schemas'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { z } from 'zod'
import { AuditAction, type PrivacyStore, type SubjectMatch } from '@atspark/warehouse'
import type { RefusedAttempts, } from './refusals.js'
import { checkKey } from '../key-check.js'
import { BadRequest, jsonBody } from '../request.js'

/** What a body must look like, for the 400 that refuses another. */
const BODY_SHAPE = '{"user_id": "…"} or {"anon_id": "…"}'

export interface PrivacyApiDeps {
  tenants: () => TenantDirectory
  store: PrivacyStore
  /** The pipeline's own pseudonymizer, so a user id is matched as exactly the user_pid the processor stored. */
  pseudonymize: Pseudonymize
  /** In-process suppression set: changed at once so this process drops the subject's next events. */
  suppressions: { set(orgId: string, kind: SubjectKind, subject: string, active: boolean): void }
  logger: Logger
  /** Refused attempts: limited per address and audited as counts per minute and address prefix (refusals.ts). */
  refusals: RefusedAttempts
  /** Proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES); anyone else is their socket address. */
  trust: TrustFn
  now?: () => number
}

/** Least privilege: analysts read stats, never subjects' events. */
export const PRIVACY_ROLES: readonly ApiKeyRole[] = ['privacy', 'admin']

/** Erase re-checks the count this many times before giving up: an insert racing the DELETE can land after it. */
const ERASE_ATTEMPTS = 4
const ERASE_RETRY_MS = 250
const REQUESTS_LIMIT = 1000
const BODY_LIMIT_BYTES = 16 * 1024

interface AuditDraft {
  action: AuditAction
  actor: string
  org: string
  subject: string
  result?: string
  detail: Record<string, unknown>
}

type PrivacyEnv = { Variables: { principal: ApiKeyRef; audit: AuditDraft } }

interface ResolvedSubject {
  kind: SubjectKind
  /** sha256 of the id as given: what the audit log and privacy_requests keep. */
  hash: string
  /** What events carry: user_pid for users, the anon id itself for anons. */
  match: SubjectMatch
  /** What suppressions keep: user_pid for users, sha256 of the anon id for anons. */
  suppressionKey: string
  /** Echoed back to the caller (who sent it); never logged or stored. */
  echo: Record<string, string>
}


/** The privacy API, mounted at /v1/privacy: every call needs a bearer key of role privacy/admin, and every attempt is audited. */
export function createPrivacyApp(deps: PrivacyApiDeps): Hono<PrivacyEnv> {
  const now = deps.now ?? Date.now
  const app = new Hono<PrivacyEnv>()
  let lastVersion = 0
  // Versions order a request's (and a suppression's) rows in their ReplacingMergeTree: strictly increasing per process.
  const nextVersion = () => {
    lastVersion = Math.max(lastVersion + 1, now() * 1000)
    return lastVersion
  }

  /**
   * Auth before anything else: an address whose refusals emptied its bucket gets 429, then the key
   * is checked from the header alone. A refused call never reads its body or query subject, and
   * leaves a per-minute count (refusals.ts), not a row of its own; allowed calls are audited one by one.
   */
  const guard = (action: AuditAction) =>
    createMiddleware<PrivacyEnv>(async (c, next) => {
      const key = checkKey(c, { tenants: deps.tenants, roles: PRIVACY_ROLES, purpose: 'use the privacy API', refusals: { attempts: deps.refusals, trust: deps.trust, action } })
      if (key instanceof Response) return key
      const draft: AuditDraft = { action, actor: key.keyId, org: key.orgId, subject: '', detail: {} }
      c.set('audit', draft)
      c.set('principal', key)
      try {
        await next()
        draft.result ??= resultOf(c.res.status)
      } finally {
        draft.result ??= 'failed'
        await deps.store.audit([
          {
            time: toWarehouseTime(now()),
            actor_key_id: draft.actor,
            org_id: draft.org,
            action: draft.action,
            subject_hash: draft.subject,
            result: draft.result,
            detail: JSON.stringify(draft.detail),
          },
        ])
      }
    })

  const resolve = (orgId: string, input: unknown): ResolvedSubject => {
    const parsed = PrivacySubject.safeParse(input)
    if (!parsed.success) throw new BadRequest(z.prettifyError(parsed.error))
    const { user_id: userId, anon_id: anonId } = parsed.data
    if (userId !== undefined) {
      const pid = deps.pseudonymize(orgId, userId)
      return { kind: 'user', hash: subjectHash(userId), match: { column: 'user_pid', value: pid }, suppressionKey: pid, echo: { user_id: userId, user_pid: pid } }
    }
    const anon = anonId as string
    return { kind: 'anon', hash: subjectHash(anon), match: { column: 'anon_id', value: anon }, suppressionKey: subjectHash(anon), echo: { anon_id: anon } }
  }

  const request = (c: Context<PrivacyEnv>, kind: PrivacyRequestKind, subject: ResolvedSubject) => {
    const principal = c.get('principal')
    const base = {
      request_id: randomUUID(),
      org_id: principal.orgId,
      kind,
      subject_kind: subject.kind,
      subject_hash: subject.hash,
      actor_key_id: principal.keyId,
      created_at: toWarehouseTime(now()),
    }
    const audit = c.get('audit')
    audit.detail.request_id = base.request_id
    audit.subject = subject.hash
    return {
      id: base.request_id,
      put: (status: PrivacyRequestStatus, detail: Record<string, unknown> = {}): Promise<void> => {
        const row: PrivacyRequestRow = {
          ...base,
          status,
          finished_at: status === 'running' ? null : toWarehouseTime(now()),
          detail: JSON.stringify(detail),
          version: nextVersion(),
        }
        return deps.store.putRequest(row)
      },
    }
  }

  const setSuppression = async (orgId: string, subject: ResolvedSubject, active: boolean): Promise<void> => {
    // Warehouse first: a refresh that starts after this sees the row (SuppressionSet relies on that order).
    await deps.store.putSuppression({
      org_id: orgId,
      subject_kind: subject.kind,
      subject: subject.suppressionKey,
      active,
      updated_at: toWarehouseTime(now()),
      version: nextVersion(),
    })
    deps.suppressions.set(orgId, subject.kind, subject.suppressionKey, active)
  }

  const limitBody = bodyLimit({
    maxSize: BODY_LIMIT_BYTES,
    onError: (c) => c.json({ error: 'body_too_large', message: `bodies are at most ${BODY_LIMIT_BYTES} bytes` }, 413),
  })

  app.get('/export', guard(AuditAction.export), async (c) => {
    const orgId = c.get('principal').orgId
    const subject = resolve(orgId, c.req.query())
    const format = ExportFormat.safeParse(c.req.query('format') ?? 'ndjson')
    if (!format.success) throw new BadRequest('format must be ndjson or json')
    const audit = c.get('audit')
    audit.detail.format = format.data
    const req = request(c, 'export', subject)
    await req.put('running')
    if (format.data === 'json') {
      const events: unknown[] = []
      for await (const line of deps.store.exportEvents(orgId, subject.match)) events.push(JSON.parse(line))
      await req.put('done', { rows: events.length })
      audit.detail.rows = events.length
      c.header('X-Request-Id', req.id)
      return c.json({ request_id: req.id, org_id: orgId, subject: { kind: subject.kind, ...subject.echo }, events })
    }
    // NDJSON streams: rows go out as the warehouse yields them, and the request is closed when the stream ends.
    const lines = deps.store.exportEvents(orgId, subject.match)[Symbol.asyncIterator]()
    const encoder = new TextEncoder()
    let rows = 0
    const finish = (status: PrivacyRequestStatus, detail: Record<string, unknown>) =>
      req.put(status, detail).catch((err: unknown) => deps.logger.error({ err, request_id: req.id }, 'could not record the export request'))
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await lines.next()
          if (next.done) {
            await finish('done', { rows })
            controller.close()
            return
          }
          rows++
          controller.enqueue(encoder.encode(`${next.value}\n`))
        } catch (err) {
          deps.logger.error({ err, request_id: req.id }, 'export stream failed')
          await finish('failed', { rows, error: 'stream failed' })
          controller.error(err)
        }
      },
      async cancel() {
        await lines.return?.()
        await finish('failed', { rows, error: 'client went away' })
      },
    })
    return c.body(body, 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'X-Request-Id': req.id })
  })

  app.post('/erase', guard(AuditAction.erase), limitBody, async (c) => {
    const orgId = c.get('principal').orgId
    const subject = resolve(orgId, await jsonBody(c, BODY_SHAPE))
    const req = request(c, 'erase', subject)
    await req.put('running')
    // Suppress first, so events arriving while the DELETE runs are dropped rather than kept.
    await setSuppression(orgId, subject, true)
    const before = await deps.store.countEvents(orgId, subject.match)
    let remaining = before
    for (let attempt = 0; attempt < ERASE_ATTEMPTS && remaining > 0; attempt++) {
      if (attempt > 0) await sleep(ERASE_RETRY_MS)
      await deps.store.deleteEvents(orgId, subject.match)
      remaining = await deps.store.countEvents(orgId, subject.match)
    }
    const ok = remaining === 0
    // The proof: a count of 0 after the delete, kept in both the request and the audit log.
    const proof = { deleted: before - remaining, remaining, suppressed: true, consent_log: 'holds no subject identifier; nothing to erase' }
    await req.put(ok ? 'done' : 'failed', proof)
    const audit = c.get('audit')
    audit.detail = { ...audit.detail, ...proof }
    audit.result = ok ? 'ok' : 'failed'
    return c.json({ request_id: req.id, status: ok ? 'done' : 'failed', subject_hash: subject.hash, ...proof }, ok ? 200 : 500)
  })

  for (const kind of ['suppress', 'unsuppress'] as const) {
    app.post(`/${kind}`, guard(AuditAction[kind]), limitBody, async (c) => {
      const orgId = c.get('principal').orgId
      const subject = resolve(orgId, await jsonBody(c, BODY_SHAPE))
      const req = request(c, kind, subject)
      await req.put('running')
      const active = kind === 'suppress'
      await setSuppression(orgId, subject, active)
      await req.put('done', { suppressed: active })
      c.get('audit').detail.suppressed = active
      return c.json({ request_id: req.id, status: 'done', subject_hash: subject.hash, suppressed: active })
    })
  }

  app.get('/requests', guard(AuditAction.requests), async (c) => {
    const orgId = c.get('principal').orgId
    const requests = await deps.store.listRequests(orgId, REQUESTS_LIMIT)
    c.get('audit').detail.rows = requests.length
    return c.json({ org_id: orgId, requests })
  })

  app.onError((err, c) => {
    if (err instanceof BadRequest) return c.json({ error: 'invalid_request', message: err.message }, 400)
    if (err instanceof z.ZodError) return c.json({ error: 'invalid_request', message: z.prettifyError(err) }, 400)
    deps.logger.error({ err, path: c.req.path }, 'privacy API failed')
    return c.json({ error: 'internal', message: 'internal error' }, 500)
  })
  return app
}

function resultOf(status: number): string {
  if (status < 400) return 'ok'
  if (status === 400 || status === 413) return 'invalid'
  return 'failed'
}



function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
