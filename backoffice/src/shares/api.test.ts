import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pathToFileURL } from 'node:url'
import { createLogger, generateApiKey, TenantDirectory } from '@atspark/runtime'
import { type AuditRow, ShareCreatedResponse, ShareListResponse } from '@atspark/schemas'
import { createWarehouseClient, migrate, type SharedLinkStore, warehouseSharedLinkStore } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createBackofficeApp } from '../app.js'
import { DASHBOARD_CSP } from '../dashboard/routes.js'
import { RefusedAttempts } from '../privacy/refusals.js'
import { SHARE_NOT_FOUND } from './api.js'
import { shareTokenHash } from './tokens.js'

// The shared-links API on a real engine (chDB, migrated): admin create/list/revoke, the stats API and the
// page behind a link, expiry under an injected clock, audit of every use, refusals. Two orgs have the
// same site ids, so a link reaching the wrong org would still find a site.

const DAY = 86_400_000
const KEYS = {
  aAdmin: generateApiKey(),
  aAnalyst: generateApiKey(),
  aPrivacy: generateApiKey(),
  bAdmin: generateApiKey(),
}
const site = (id: string, key: string) => ({ id, write_key: key, allowed_origins: ['http://localhost:3000'], consent_mode: 'opt-out' as const })
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: 'org-a',
      name: 'A',
      api_keys: [
        { id: 'a-admin', hash: KEYS.aAdmin.hash, role: 'admin' },
        { id: 'a-analyst', hash: KEYS.aAnalyst.hash, role: 'analyst' },
        { id: 'a-privacy', hash: KEYS.aPrivacy.hash, role: 'privacy' },
      ],
      sites: [site('web', 'pk_a_web'), site('other', 'pk_a_other')],
    },
    { id: 'org-b', name: 'B', api_keys: [{ id: 'b-admin', hash: KEYS.bAdmin.hash, role: 'admin' }], sites: [site('web', 'pk_b_web')] },
  ],
})

let dir: string
let warehouse: ClickHouseClient
let store: SharedLinkStore
let clock: number
let failAudit: boolean
let logged: string
let app: ReturnType<typeof createBackofficeApp>

/** The audit rows about one link (its uses, and admin calls naming it), oldest first: requests below are 1 ms apart. */
const auditOf = async (linkId: string): Promise<AuditRow[]> => {
  const rs = await warehouse.query({
    query: `SELECT * FROM atspark.audit_log WHERE actor_key_id = {actor:String} OR position(detail, {id:String}) > 0 ORDER BY time`,
    query_params: { actor: `share:${linkId}`, id: linkId },
    format: 'JSONEachRow',
  })
  return rs.json<AuditRow>()
}

function build(refusals = new RefusedAttempts({ ratePerSecond: 1, burst: 1000, maxTracked: 1000 })) {
  const logger = createLogger(
    'shares-test',
    'debug',
    new Writable({
      write(chunk, _enc, done) {
        logged += String(chunk)
        done()
      },
    }),
  )
  const audited: SharedLinkStore = {
    ...store,
    audit: async (rows) => {
      if (failAudit) throw new Error('audit_log unavailable')
      await store.audit(rows)
    },
  }
  app = createBackofficeApp({
    warehouse,
    registries: [new Registry()],
    stats: { warehouse, tenants: () => tenants, logger, k: 5 },
    shares: { store: audited, now: () => clock, refusals },
    dashboard: { assetsDir: pathToFileURL(`${join(dir, 'static')}/`) },
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atspark-shares-'))
  mkdirSync(join(dir, 'static'))
  writeFileSync(join(dir, 'static', 'index.html'), '<!doctype html><title>atSpark</title>')
  warehouse = createWarehouseClient({ dataDir: join(dir, 'chdb') })
  await migrate(warehouse)
  store = warehouseSharedLinkStore(warehouse)
}, 60_000)

afterAll(async () => {
  await warehouse?.close()
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  clock = Date.parse('2026-12-01T10:00:00.000Z')
  failAudit = false
  logged = ''
  build()
})

const admin = (key: { key: string }, method: string, path = '', body?: unknown) =>
  app.request(`/v1/shares${path}`, {
    method,
    headers: { authorization: `Bearer ${key.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function create(body: unknown = { site: 'web', expires_in_days: 7, label: 'Board' }, key = KEYS.aAdmin) {
  const res = await admin(key, 'POST', '', body)
  expect(res.status, await res.clone().text()).toBe(201)
  return ShareCreatedResponse.parse(await res.json())
}

const shared = (token: string, path: string) => {
  clock += 1
  return app.request(`/v1/shared/${token}/stats${path}`)
}
const page = (token: string) => {
  clock += 1
  return app.request(`/share/${token}`)
}

describe('admin API', () => {
  it('creates a link for one site (shown once, stored as sha256 only), lists it without its token, revokes it', async () => {
    const link = await create()
    expect(link.token).toMatch(/^sh_[A-Za-z0-9_-]{43}$/)
    expect(link.url).toBe(`/share/${link.token}`)
    expect(link).toMatchObject({ site: 'web', label: 'Board', expires_at: '2026-12-08T10:00:00.000Z' })
    const stored = await store.find('org-a', link.id)
    expect(stored?.token_hash).toBe(shareTokenHash(link.token))
    const raw = await (await warehouse.query({ query: 'SELECT * FROM atspark.shared_links', format: 'JSONEachRow' })).text()
    expect(raw).not.toContain(link.token)
    expect(raw).not.toContain(link.token.slice(3))

    const listed = await admin(KEYS.aAdmin, 'GET')
    expect(listed.status).toBe(200)
    const text = await listed.text()
    expect(text).not.toContain(link.token.slice(3))
    expect(text).not.toContain(shareTokenHash(link.token))
    const mine = ShareListResponse.parse(JSON.parse(text)).shares.find((s) => s.id === link.id)
    expect(mine).toEqual({ id: link.id, site: 'web', label: 'Board', created_by: 'a-admin', created_at: '2026-12-01T10:00:00.000Z', expires_at: link.expires_at, revoked_at: null, active: true })

    clock += 1000
    const revoked = await admin(KEYS.aAdmin, 'DELETE', `/${link.id}`)
    expect(revoked.status).toBe(200)
    expect(await revoked.json()).toEqual({ id: link.id, revoked_at: '2026-12-01T10:00:01.000Z' })
    // Revoking twice keeps the first time.
    clock += 1000
    expect(await (await admin(KEYS.aAdmin, 'DELETE', `/${link.id}`)).json()).toEqual({ id: link.id, revoked_at: '2026-12-01T10:00:01.000Z' })
    const after = ShareListResponse.parse(await (await admin(KEYS.aAdmin, 'GET')).json()).shares.find((s) => s.id === link.id)
    expect(after).toMatchObject({ revoked_at: '2026-12-01T10:00:01.000Z', active: false })
    expect(logged).not.toContain(link.token.slice(3))
  })

  it('defaults to 30 days and takes 1 and 365; refuses 0, 366, fractions, unknown fields and non-JSON with 400', async () => {
    expect((await create({ site: 'web' })).expires_at).toBe('2026-12-31T10:00:00.000Z')
    expect((await create({ site: 'web', expires_in_days: 1 })).expires_at).toBe('2026-12-02T10:00:00.000Z')
    expect((await create({ site: 'web', expires_in_days: 365 })).expires_at).toBe('2027-12-01T10:00:00.000Z')
    for (const body of [{ site: 'web', expires_in_days: 0 }, { site: 'web', expires_in_days: 366 }, { site: 'web', expires_in_days: 1.5 }, { site: 'web', token: 'x' }, {}]) {
      const res = await admin(KEYS.aAdmin, 'POST', '', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(await res.json()).toMatchObject({ error: 'invalid_request' })
    }
    const text = await app.request('/v1/shares', { method: 'POST', headers: { authorization: `Bearer ${KEYS.aAdmin.key}`, 'content-type': 'text/plain' }, body: 'site=web' })
    expect(text.status).toBe(400)
  })

  it('refuses a site of another org (404), and keeps orgs apart in list and revoke', async () => {
    const res = await admin(KEYS.bAdmin, 'POST', '', { site: 'other' })
    expect(res.status).toBe(404)
    const link = await create()
    const listB = ShareListResponse.parse(await (await admin(KEYS.bAdmin, 'GET')).json())
    expect(listB.shares.map((s) => s.id)).not.toContain(link.id)
    const revokeB = await admin(KEYS.bAdmin, 'DELETE', `/${link.id}`)
    expect(revokeB.status).toBe(404)
    expect((await store.find('org-a', link.id))?.revoked_at).toBeNull()
    expect((await shared(link.token, '/sites')).status).toBe(200)
    expect((await admin(KEYS.aAdmin, 'DELETE', '/not-an-id')).status).toBe(404)
  })

  it('is for admin keys only: analyst and privacy keys get 403, no key or a link token 401', async () => {
    const link = await create()
    for (const key of [KEYS.aAnalyst, KEYS.aPrivacy]) {
      expect((await admin(key, 'POST', '', { site: 'web' })).status).toBe(403)
      expect((await admin(key, 'GET')).status).toBe(403)
      expect((await admin(key, 'DELETE', `/${link.id}`)).status).toBe(403)
    }
    expect((await app.request('/v1/shares')).status).toBe(401)
    expect((await admin({ key: link.token }, 'GET')).status).toBe(401)
    expect((await admin({ key: link.token }, 'DELETE', `/${link.id}`)).status).toBe(401)
    expect((await store.find('org-a', link.id))?.revoked_at).toBeNull()
  })

  it('audits each call, and refuses (503) and undoes a create whose audit row cannot be written', async () => {
    const link = await create()
    const rows = await auditOf(link.id)
    expect(rows).toEqual([expect.objectContaining({ action: 'share_create', actor_key_id: 'a-admin', org_id: 'org-a', subject_hash: '', result: 'ok' })])
    expect(JSON.parse(rows[0]!.detail)).toEqual({ id: link.id, site: 'web', expires_in_days: 7 })
    expect(JSON.stringify(rows)).not.toContain(link.token.slice(3))

    failAudit = true
    const res = await admin(KEYS.aAdmin, 'POST', '', { site: 'web', label: 'unaudited' })
    expect(res.status).toBe(503)
    expect(await res.text()).not.toMatch(/sh_/)
    failAudit = false
    const unaudited = ShareListResponse.parse(await (await admin(KEYS.aAdmin, 'GET')).json()).shares.filter((s) => s.label === 'unaudited')
    expect(unaudited).toHaveLength(1)
    expect(unaudited[0]?.active).toBe(false)
  })
})

describe('a shared link', () => {
  it('reads the stats of its one site, every use audited; another site is 404; revoked, it is 404 from the next request', async () => {
    const link = await create()
    const sites = await shared(link.token, '/sites')
    expect(sites.status).toBe(200)
    expect(await sites.json()).toMatchObject({ org_id: 'org-a', sites: [{ id: 'web' }] })
    const series = await shared(link.token, '/timeseries?from=2026-11-29&to=2026-11-30')
    expect(series.status, await series.clone().text()).toBe(200)
    expect(await series.json()).toMatchObject({ org_id: 'org-a', site: 'web' })
    expect((await shared(link.token, '/timeseries?site=web&from=2026-11-29&to=2026-11-30')).status).toBe(200)
    const other = await shared(link.token, '/timeseries?site=other&from=2026-11-29&to=2026-11-30')
    expect(other.status).toBe(404)

    const uses = await auditOf(link.id)
    expect(uses.map((r) => [r.action, r.actor_key_id, r.org_id, r.subject_hash, r.result, r.detail])).toEqual([
      ['share_create', 'a-admin', 'org-a', '', 'ok', JSON.stringify({ id: link.id, site: 'web', expires_in_days: 7 })],
      ['share_view', `share:${link.id}`, 'org-a', '', 'ok', '{"path":"/sites"}'],
      ['share_view', `share:${link.id}`, 'org-a', '', 'ok', '{"path":"/timeseries"}'],
      ['share_view', `share:${link.id}`, 'org-a', '', 'ok', '{"path":"/timeseries"}'],
      ['share_view', `share:${link.id}`, 'org-a', '', 'ok', '{"path":"/timeseries"}'],
    ])

    expect((await admin(KEYS.aAdmin, 'DELETE', `/${link.id}`)).status).toBe(200)
    const gone = await shared(link.token, '/sites')
    expect(gone.status).toBe(404)
    expect(await gone.json()).toEqual(SHARE_NOT_FOUND)
    expect((await page(link.token)).status).toBe(404)
    expect(logged).not.toContain(link.token.slice(3))
  })

  it('opens until the instant it expires, then answers 404 like an unknown token', async () => {
    const link = await create({ site: 'web', expires_in_days: 1 })
    // Each use below is 1 ms later: the first at expires_at − 1 ms, the second at expires_at.
    clock += DAY - 2
    expect((await shared(link.token, '/sites')).status).toBe(200)
    const expired = await shared(link.token, '/sites')
    expect(expired.status).toBe(404)
    expect(await expired.json()).toEqual(SHARE_NOT_FOUND)
    expect((await page(link.token)).status).toBe(404)
    const unknown = await shared(`sh_${'A'.repeat(43)}`, '/sites')
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toEqual(SHARE_NOT_FOUND)
    expect(await (await shared('not-a-token', '/sites')).json()).toEqual(SHARE_NOT_FOUND)
  })

  it('of org A never reads org B’s site of the same id, and is neither a stats, privacy nor admin key', async () => {
    const linkB = await create({ site: 'web' }, KEYS.bAdmin)
    const body = await (await shared(linkB.token, '/sites')).json()
    expect(body).toMatchObject({ org_id: 'org-b', sites: [{ id: 'web' }] })
    const linkA = await create()
    expect(await (await shared(linkA.token, '/sites')).json()).toMatchObject({ org_id: 'org-a' })
    for (const path of ['/v1/stats/sites', '/v1/privacy/requests', '/v1/shares']) {
      const res = await app.request(path, { headers: { authorization: `Bearer ${linkA.token}` } })
      expect([401, 404], path).toContain(res.status)
    }
    // The token's place in the path reaches only stats endpoints.
    expect((await app.request(`/v1/shared/${linkA.token}/privacy/requests`)).status).toBe(404)
    expect((await app.request(`/v1/shared/${linkA.token}/stats/../../shares`)).status).not.toBe(200)
  })

  it('refuses every use (503) while the audit log cannot be written', async () => {
    const link = await create()
    failAudit = true
    const res = await shared(link.token, '/sites')
    expect(res.status).toBe(503)
    expect((await page(link.token)).status).toBe(503)
    failAudit = false
    expect((await shared(link.token, '/sites')).status).toBe(200)
  })

  it('serves the dashboard page at /share/<token> with the dashboard CSP, no-store, audited as a page load', async () => {
    const link = await create()
    const res = await page(link.token)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await res.text()).toContain('atSpark')
    expect((await auditOf(link.id)).map((r) => [r.action, r.actor_key_id, r.detail])).toEqual([
      ['share_create', 'a-admin', JSON.stringify({ id: link.id, site: 'web', expires_in_days: 7 })],
      ['share_view', `share:${link.id}`, '{"path":"/share"}'],
    ])
    const missing = await page(`sh_${'B'.repeat(43)}`)
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
  })

  it('a link that does not open (unknown, malformed, expired, revoked) gets the page itself, status 404, same CSP, no-store', async () => {
    const expiring = await create({ site: 'web', expires_in_days: 1 })
    const revoked = await create()
    expect((await admin(KEYS.aAdmin, 'DELETE', `/${revoked.id}`)).status).toBe(200)
    clock += DAY
    for (const token of [`sh_${'C'.repeat(43)}`, 'not-a-token', expiring.token, revoked.token]) {
      const res = await page(token)
      expect(res.status, token).toBe(404)
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(await res.text()).toBe('<!doctype html><title>atSpark</title>')
    }
    // A use refused for another reason keeps its JSON answer: the page could not tell the reader why.
    const live = await create()
    failAudit = true
    const refused = await page(live.token)
    expect(refused.status).toBe(503)
    expect(await refused.json()).toMatchObject({ error: 'audit_unavailable' })
  })

  it('tells the link’s expiry with every answer of the stats API behind it (X-Share-Expires-At), errors included', async () => {
    const link = await create({ site: 'web', expires_in_days: 7 })
    const answers = [
      await shared(link.token, '/sites'),
      await shared(link.token, '/timeseries?from=2026-11-29&to=2026-11-30'),
      await shared(link.token, '/timeseries?site=other&from=2026-11-29&to=2026-11-30'),
      await shared(link.token, '/timeseries?from=yesterday'),
    ]
    expect(answers.map((r) => r.status)).toEqual([200, 200, 404, 400])
    for (const res of answers) expect(res.headers.get('x-share-expires-at')).toBe(link.expires_at)
    expect(link.expires_at).toBe('2026-12-08T10:00:00.000Z')
    // A token that opens nothing tells nothing.
    expect((await shared(`sh_${'D'.repeat(43)}`, '/sites')).headers.get('x-share-expires-at')).toBeNull()
  })

  it('costs the address a refusal per wrong token: an empty bucket gets 429, even for a good token', async () => {
    build(new RefusedAttempts({ ratePerSecond: 0.001, burst: 3, maxTracked: 100 }))
    const link = await create()
    for (let i = 0; i < 3; i++) expect((await shared(`sh_${String(i).repeat(43)}`, '/sites')).status).toBe(404)
    const limited = await shared(link.token, '/sites')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).not.toBeNull()
    expect((await page(link.token)).status).toBe(429)
  })
})
