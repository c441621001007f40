import { randomUUID } from 'node:crypto'
import type { ApiKeyRef, Logger, TenantDirectory, TrustFn } from '@atspark/runtime'
import {
  fromWarehouseTime,
  type ApiKeyRole,
  ShareCreateBody,
  ShareCreatedResponse,
  type SharedLinkRow,
  ShareListResponse,
  ShareRevokedResponse,
  toWarehouseTime,
} from '@atspark/schemas'
import { type SharedLink, type SharedLinkStore, ShareAuditAction } from '@atspark/warehouse'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { createMiddleware } from 'hono/factory'
import { z } from 'zod'
import { type RefusedAttempts, RefusalResult } from '../privacy/refusals.js'
import { newShareToken } from './tokens.js'
import { checkKey, refusedTooOften } from '../key-check.js'
import { BadRequest, jsonBody, requestAddress } from '../request.js'

/** What a body must look like, for the 400 that refuses another. */
const BODY_SHAPE = '{"site": "…", "expires_in_days": 30, "label": "…"}'

export interface SharesDeps {
  tenants: () => TenantDirectory
  store: SharedLinkStore
  logger: Logger
  /** Refused attempts per address (the privacy API's buckets): a wrong token or key costs one, an empty bucket gets 429. */
  refusals: RefusedAttempts
  /** Proxies whose X-Forwarded-For names the client (TRUSTED_PROXIES). */
  trust: TrustFn
  now?: () => number
}

/** Only admins hand out read access to a site's aggregates. */
export const SHARE_ADMIN_ROLES: readonly ApiKeyRole[] = ['admin']

/** One answer for every token that does not open a link, so an unknown, an expired and a revoked one look alike. */
export const SHARE_NOT_FOUND = { error: 'not_found', message: 'this shared link does not exist, has expired or was revoked' } as const

const LIST_LIMIT = 1000
const BODY_LIMIT_BYTES = 4 * 1024
const DAY_MS = 86_400_000

interface AuditDraft {
  action: ShareAuditAction
  actor: string
  org: string
  result?: string
  detail: Record<string, unknown>
  /** Undoes what the call did when its audit row cannot be written (a created link is revoked). */
  undo?: () => Promise<void>
}

type SharesEnv = { Variables: { principal: ApiKeyRef; audit: AuditDraft } }


/** Warehouse time (`YYYY-MM-DD hh:mm:ss.mmm`, UTC) → epoch ms. */
const iso = (t: string): string => new Date(fromWarehouseTime(t)).toISOString()

/** A link opens the dashboard while it is neither revoked nor past its expiry. */
export function isActive(link: SharedLink, now: number): boolean {
  return link.revoked_at === null && fromWarehouseTime(link.expires_at) > now
}

/** Strictly increasing per process, so a revocation always outranks the version it replaces. */
function versions(now: () => number): () => number {
  let last = 0
  return () => {
    last = Math.max(last + 1, now() * 1000)
    return last
  }
}

/**
 * The admin API, mounted at /v1/shares: bearer key of role admin, the org from the key. Refused calls
 * cost the address a token and are counted per minute (refusals.ts); allowed calls are audited one by
 * one, and a call whose audit row cannot be written is refused (503) and undone.
 */
export function createSharesAdminApp(deps: SharesDeps): Hono<SharesEnv> {
  const now = deps.now ?? Date.now
  const nextVersion = versions(now)
  const app = new Hono<SharesEnv>()

  const guard = (action: ShareAuditAction) =>
    createMiddleware<SharesEnv>(async (c, next) => {
      const key = checkKey(c, { tenants: deps.tenants, roles: SHARE_ADMIN_ROLES, purpose: 'manage shared links', refusals: { attempts: deps.refusals, trust: deps.trust, action } })
      if (key instanceof Response) return key
      const draft: AuditDraft = { action, actor: key.keyId, org: key.orgId, detail: {} }
      c.set('audit', draft)
      c.set('principal', key)
      try {
        await next()
      } finally {
        draft.result ??= resultOf(c.res.status)
        try {
          await deps.store.audit([
            { time: toWarehouseTime(now()), actor_key_id: draft.actor, org_id: draft.org, action: draft.action, subject_hash: '', result: draft.result, detail: JSON.stringify(draft.detail) },
          ])
        } catch (err) {
          deps.logger.error({ err, action }, 'could not audit a shared-links call; refusing it')
          await draft.undo?.().catch((undoErr: unknown) => deps.logger.error({ err: undoErr, action }, 'could not undo an unaudited shared-links call'))
          c.res = c.json({ error: 'audit_unavailable', message: 'the audit log cannot be written; nothing was changed, try again later' }, 503)
        }
      }
    })

  app.post(
    '/',
    guard(ShareAuditAction.create),
    bodyLimit({ maxSize: BODY_LIMIT_BYTES, onError: (c) => c.json({ error: 'body_too_large', message: `bodies are at most ${BODY_LIMIT_BYTES} bytes` }, 413) }),
    async (c) => {
      const principal = c.get('principal')
      const parsed = ShareCreateBody.safeParse(await jsonBody(c, BODY_SHAPE))
      if (!parsed.success) throw new BadRequest(z.prettifyError(parsed.error))
      const body = parsed.data
      const site = deps.tenants().org(principal.orgId)?.sites.find((s) => s.id === body.site)
      if (!site) return c.json({ error: 'not_found', message: `no site ${body.site} in this org` }, 404)
      const { token, hash } = newShareToken()
      const created = now()
      const row: SharedLinkRow = {
        link_id: randomUUID(),
        org_id: principal.orgId,
        site_id: site.id,
        token_hash: hash,
        label: body.label,
        created_by: principal.keyId,
        created_at: toWarehouseTime(created),
        expires_at: toWarehouseTime(created + body.expires_in_days * DAY_MS),
        revoked_at: null,
        version: nextVersion(),
      }
      await deps.store.put(row)
      const audit = c.get('audit')
      audit.detail = { id: row.link_id, site: site.id, expires_in_days: body.expires_in_days }
      // Never shown, so never usable; revoked all the same so no unaudited link stays open.
      audit.undo = () => deps.store.put({ ...row, revoked_at: toWarehouseTime(now()), version: nextVersion() })
      const answer = { id: row.link_id, site: site.id, label: row.label, url: `/share/${token}`, token, expires_at: iso(row.expires_at) }
      return c.json(ShareCreatedResponse.parse(answer), 201)
    },
  )

  app.get('/', guard(ShareAuditAction.list), async (c) => {
    const t = now()
    const links = await deps.store.list(c.get('principal').orgId, LIST_LIMIT)
    c.get('audit').detail = { rows: links.length }
    const shares = links.map((l) => ({
      id: l.link_id,
      site: l.site_id,
      label: l.label,
      created_by: l.created_by,
      created_at: iso(l.created_at),
      expires_at: iso(l.expires_at),
      revoked_at: l.revoked_at === null ? null : iso(l.revoked_at),
      active: isActive(l, t),
    }))
    return c.json(ShareListResponse.parse({ shares }))
  })

  app.delete('/:id', guard(ShareAuditAction.revoke), async (c) => {
    const principal = c.get('principal')
    const id = c.req.param('id')
    c.get('audit').detail = { id }
    // Another org's id, or anything that is not an id at all, is simply not found.
    const link = z.uuid().safeParse(id).success ? await deps.store.find(principal.orgId, id) : undefined
    if (!link) return c.json({ error: 'not_found', message: `no shared link ${id} in this org` }, 404)
    // Revoking twice keeps the first revocation's time.
    const revokedAt = link.revoked_at ?? toWarehouseTime(now())
    if (link.revoked_at === null) await deps.store.put({ ...link, revoked_at: revokedAt, version: nextVersion() })
    return c.json(ShareRevokedResponse.parse({ id: link.link_id, revoked_at: iso(revokedAt) }))
  })

  app.onError((err, c) => {
    if (err instanceof BadRequest) return c.json({ error: 'invalid_request', message: err.message }, 400)
    deps.logger.error({ err, path: c.req.path }, 'shared-links API failed')
    return c.json({ error: 'internal', message: 'internal error' }, 500)
  })
  return app
}

/** Who a shared link lets in: its org, `share:<id>` in the audit log, role `shared`, its one site. */
export interface SharedPrincipal {
  orgId: string
  keyId: string
  role: 'shared'
  site: string
  /** When the link stops opening (ISO), told to the page with every answer. */
  expiresAt: string
}

/**
 * Opens a shared link for one use (an API request or a page load): 429 while the address's refusals
 * have emptied its bucket; hash the token, then look the hash up (a raw token is never compared); 404 for
 * unknown, expired or revoked alike, which costs the address a token; then the use is audited
 * (`share_view`) before anything is answered: an audit that fails refuses the use (503). No cache:
 * each use reads the link again, so a revocation holds from the next request on.
 */
export function sharedLinkAccess(deps: SharesDeps): (c: Context, tokenHash: string | undefined, path: string) => Promise<SharedPrincipal | Response> {
  const now = deps.now ?? Date.now
  return async (c, tokenHash, path) => {
    const address = requestAddress(c, deps.trust)
    const limited = refusedTooOften(c, deps.refusals, address, ShareAuditAction.view)
    if (limited) return limited
    const t = now()
    const link = tokenHash === undefined ? undefined : await deps.store.findByTokenHash(tokenHash)
    // The org and site must still exist: a site removed from the tenants file takes its links with it.
    const open = link !== undefined && isActive(link, t) && deps.tenants().siteOf(link.org_id, link.site_id) !== undefined
    if (!link || !open) {
      deps.refusals.refused(address, { actor: 'unknown', org: '', action: ShareAuditAction.view }, RefusalResult.unauthorized)
      return c.json(SHARE_NOT_FOUND, 404)
    }
    const actor = `share:${link.link_id}`
    try {
      await deps.store.audit([
        { time: toWarehouseTime(t), actor_key_id: actor, org_id: link.org_id, action: ShareAuditAction.view, subject_hash: '', result: 'ok', detail: JSON.stringify({ path }) },
      ])
    } catch (err) {
      deps.logger.error({ err, link_id: link.link_id }, 'could not audit a shared-link use; refusing it')
      return c.json({ error: 'audit_unavailable', message: 'the audit log cannot be written; shared links are refused until it can' }, 503)
    }
    return { orgId: link.org_id, keyId: actor, role: 'shared', site: link.site_id, expiresAt: iso(link.expires_at) }
  }
}

function resultOf(status: number): string {
  if (status < 400) return 'ok'
  if (status === 400 || status === 413) return 'invalid'
  if (status === 404) return 'not_found'
  return 'failed'
}


