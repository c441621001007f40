import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BreakdownResponse, ShareCreatedResponse, ShareListResponse, SitesResponse, type WireEvent } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

// Shared links end to end on the built embedded pipeline (chDB): an admin of org A shares site `web`;
// org B has a site `web` too, with traffic org A never has. The link reads org A's web only, is
// audited at every use, stops at revocation and at expiry, and its token is never logged or listed.

const ORIGIN = 'http://localhost:3996'
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { aAdmin: newKey(), aAnalyst: newKey(), aPrivacy: newKey(), bAdmin: newKey(), bAnalyst: newKey() }
const WRITE = { aWeb: 'pk_share_a_web', aOther: 'pk_share_a_other', bWeb: 'pk_share_b_web' }
const site = (id: string, key: string) => ({ id, write_key: key, allowed_origins: [ORIGIN], consent_mode: 'opt-out' })
const tenants = {
  orgs: [
    {
      id: 'org-a',
      name: 'A',
      api_keys: [
        { id: 'a-admin', hash: sha256(KEYS.aAdmin), role: 'admin' },
        { id: 'a-analyst', hash: sha256(KEYS.aAnalyst), role: 'analyst' },
        { id: 'a-privacy', hash: sha256(KEYS.aPrivacy), role: 'privacy' },
      ],
      sites: [site('web', WRITE.aWeb), site('other', WRITE.aOther)],
    },
    {
      id: 'org-b',
      name: 'B',
      api_keys: [
        { id: 'b-admin', hash: sha256(KEYS.bAdmin), role: 'admin' },
        { id: 'b-analyst', hash: sha256(KEYS.bAnalyst), role: 'analyst' },
      ],
      sites: [site('web', WRITE.bWeb)],
    },
  ],
}

const DAY = 86_400_000
const D1 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const RANGE = `from=${day(D1 - DAY)}&to=${day(D1 + DAY)}`
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const pv = (visitor: string, path: string): WireEvent => event({ a: `anon_${visitor}`, s: `sess_${visitor}`, u: `https://app.example.com${path}`, ts: D1 + 10 * 3_600_000 })

// Org A web: 6 on /home, 5 on /pricing. Org A other: 8 on /other-only. Org B web (same site id): 7 on /home, 6 on /b-only.
const traffic: [string, WireEvent[]][] = [
  [WRITE.aWeb, [...range(6).map((i) => pv(`a${i}`, '/home')), ...range(5).map((i) => pv(`a${i}`, '/pricing'))]],
  [WRITE.aOther, range(8).map((i) => pv(`o${i}`, '/other-only'))],
  [WRITE.bWeb, [...range(7).map((i) => pv(`b${i}`, '/home')), ...range(6).map((i) => pv(`b${i}`, '/b-only'))]],
]
const PAGES = `breakdown?site=web&${RANGE}&dimension=url_path&type=pageview`

let pipeline: RunningPipeline
let dataDir: string
let tenantsFile: string
let warehouse: ClickHouseClient | undefined
const tokens: string[] = []
const links: Record<string, { id: string; token: string }> = {}

const admin = (key: string, method: string, path = '', body?: unknown) =>
  fetch(`${pipeline.backoffice}/v1/shares${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })

async function share(key: string, body: unknown): Promise<ShareCreatedResponse> {
  const res = await admin(key, 'POST', '', body)
  expect(res.status, await res.clone().text()).toBe(201)
  const created = ShareCreatedResponse.parse(await res.json())
  tokens.push(created.token)
  return created
}

const shared = (token: string, path: string) => fetch(`${pipeline.backoffice}/v1/shared/${token}/stats/${path}`)
/** A link that does not open still gets the dashboard page, with status 404, under its CSP, never cached. */
async function expectGonePage(token: string): Promise<void> {
  const res = await fetch(`${pipeline.backoffice}/share/${token}`)
  expect(res.status).toBe(404)
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
  expect(res.headers.get('cache-control')).toBe('no-store')
  const html = await res.text()
  expect(html).toContain('/dashboard/app.js')
  expect(html).toContain('id="gone"')
}

const pages = (b: BreakdownResponse) => Object.fromEntries(b.rows.map((r) => [r.value, r.visitors]))

beforeAll(async () => {
  tenantsFile = join(mkdtempSync(join(tmpdir(), 'atspark-shares-')), 'tenants.json')
  writeFileSync(tenantsFile, JSON.stringify(tenants))
  dataDir = mkdtempSync(join(tmpdir(), 'atspark-shares-data-'))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: tenantsFile, ATSPARK_DATA_DIR: dataDir, STATS_K_ANONYMITY: String(K) })
  for (const [key, events] of traffic) {
    const res = await post(pipeline.ingest, batch(events, { k: key }), { origin: ORIGIN })
    expect(res.status).toBe(202)
  }
})

afterAll(async () => {
  await warehouse?.close()
  await pipeline?.stop()
})

describe('shared links on the running pipeline', () => {
  it('an analyst or privacy key cannot create, list or revoke links (403); no key 401', async () => {
    for (const key of [KEYS.aAnalyst, KEYS.aPrivacy]) {
      expect((await admin(key, 'POST', '', { site: 'web' })).status).toBe(403)
      expect((await admin(key, 'GET')).status).toBe(403)
    }
    expect((await fetch(`${pipeline.backoffice}/v1/shares`)).status).toBe(401)
  })

  it('create → use (200, only the link’s org and site) → revoke → 404 on the next request', async () => {
    const link = await share(KEYS.aAdmin, { site: 'web', expires_in_days: 30, label: 'Board' })
    links.a = link
    const viaLink = await shared(link.token, PAGES)
    expect(viaLink.status, await viaLink.clone().text()).toBe(200)
    // The page can say until when the link works: every answer behind it carries the expiry.
    expect(viaLink.headers.get('x-share-expires-at')).toBe(link.expires_at)
    const body = BreakdownResponse.parse(await viaLink.json())
    expect(body).toMatchObject({ org_id: 'org-a', site: 'web' })
    expect(pages(body)).toEqual({ '/home': 6, '/pricing': 5 })
    // The same answer an analyst of org A gets.
    const analyst = await fetch(`${pipeline.backoffice}/v1/stats/${PAGES}`, { headers: { authorization: `Bearer ${KEYS.aAnalyst}` } })
    expect(pages(BreakdownResponse.parse(await analyst.json()))).toEqual(pages(body))
    // site= omitted is the link's site; /sites lists it alone.
    expect(pages(BreakdownResponse.parse(await (await shared(link.token, PAGES.replace('site=web&', ''))).json()))).toEqual({ '/home': 6, '/pricing': 5 })
    expect(SitesResponse.parse(await (await shared(link.token, 'sites')).json()).sites.map((s) => s.id)).toEqual(['web'])
    // Another site of the same org is not found.
    const other = await shared(link.token, PAGES.replace('site=web', 'site=other'))
    expect(other.status).toBe(404)
    expect(other.headers.get('x-share-expires-at')).toBe(link.expires_at)
    expect(await other.text()).not.toContain('/other-only')

    const revoked = await admin(KEYS.aAdmin, 'DELETE', `/${link.id}`)
    expect(revoked.status).toBe(200)
    const gone = await shared(link.token, PAGES)
    expect(gone.status).toBe(404)
    expect(await gone.json()).toEqual({ error: 'not_found', message: 'this shared link does not exist, has expired or was revoked' })
    expect(gone.headers.get('x-share-expires-at')).toBeNull()
    await expectGonePage(link.token)
  })

  it('a revoked link’s page shows “this shared link does not work” in Chromium, with no console error but the 404s', async () => {
    const link = await share(KEYS.aAdmin, { site: 'web', expires_in_days: 1 })
    expect((await admin(KEYS.aAdmin, 'DELETE', `/${link.id}`)).status).toBe(200)
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    try {
      const page = await browser.newPage()
      const errors: string[] = []
      page.on('console', (m) => {
        if (m.type() === 'error' && !/status of 404/.test(m.text())) errors.push(m.text())
      })
      page.on('pageerror', (e) => errors.push(e.message))
      const res = await page.goto(`${pipeline.backoffice}/share/${link.token}`)
      expect(res?.status()).toBe(404)
      await page.locator('#gone').waitFor({ state: 'visible', timeout: 10_000 })
      expect(await page.locator('#gone-message').textContent()).toContain('does not exist, has expired or was revoked')
      expect(errors).toEqual([])
    } finally {
      await browser.close()
    }
  })

  it('a link of org A never reads org B’s site of the same id, and org B’s link reads B only', async () => {
    const linkA = await share(KEYS.aAdmin, { site: 'web', expires_in_days: 1 })
    const linkB = await share(KEYS.bAdmin, { site: 'web', expires_in_days: 1 })
    links.b = linkB
    const a = BreakdownResponse.parse(await (await shared(linkA.token, PAGES)).json())
    const b = BreakdownResponse.parse(await (await shared(linkB.token, PAGES)).json())
    expect([a.org_id, pages(a)]).toEqual(['org-a', { '/home': 6, '/pricing': 5 }])
    expect([b.org_id, pages(b)]).toEqual(['org-b', { '/home': 7, '/b-only': 6 }])
    // Org B's admin neither sees nor revokes org A's link.
    expect(ShareListResponse.parse(await (await admin(KEYS.bAdmin, 'GET')).json()).shares.map((s) => s.id)).toEqual([linkB.id])
    expect((await admin(KEYS.bAdmin, 'DELETE', `/${linkA.id}`)).status).toBe(404)
    expect((await shared(linkA.token, PAGES)).status).toBe(200)
  })

  it('the token is a link, not a key: no stats, privacy or admin API with it as bearer', async () => {
    const link = await share(KEYS.aAdmin, { site: 'web' })
    for (const path of ['/v1/stats/sites', '/v1/privacy/requests', '/v1/shares']) {
      const res = await fetch(`${pipeline.backoffice}${path}`, { headers: { authorization: `Bearer ${link.token}` } })
      expect(res.status, path).toBe(401)
    }
    expect((await fetch(`${pipeline.backoffice}/v1/shared/${link.token}/privacy/requests`)).status).toBe(404)
  })

  it('serves the dashboard page at /share/<token> under the dashboard CSP', async () => {
    const link = await share(KEYS.aAdmin, { site: 'web' })
    links.page = link
    const page = await fetch(`${pipeline.backoffice}/share/${link.token}`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(await page.text()).toContain('/dashboard/app.js')
  })

  it('the list never holds a token; the log never holds one; the warehouse keeps sha256 only; every use is audited', async () => {
    const listText = await (await admin(KEYS.aAdmin, 'GET')).text()
    const list = ShareListResponse.parse(JSON.parse(listText))
    expect(list.shares.length).toBeGreaterThanOrEqual(4)
    expect(list.shares.find((s) => s.id === links.a?.id)).toMatchObject({ active: false, created_by: 'a-admin', label: 'Board' })
    for (const token of tokens) {
      expect(listText).not.toContain(token.slice(3))
      expect(listText).not.toContain(sha256(token))
    }
    expect(await pipeline.stop()).toBe(0)
    const out = pipeline.output()
    for (const token of tokens) expect(out).not.toContain(token.slice(3))

    warehouse = openWarehouse(dataDir)
    const stored = await rows<{ token_hash: string }>(warehouse, 'SELECT token_hash FROM atspark.shared_links')
    const dump = JSON.stringify(await rows(warehouse, 'SELECT * FROM atspark.shared_links'))
    for (const token of tokens) {
      expect(stored.map((r) => r.token_hash)).toContain(sha256(token))
      expect(dump).not.toContain(token.slice(3))
    }
    const audit = await rows<{ actor_key_id: string; org_id: string; subject_hash: string; result: string; detail: string }>(
      warehouse,
      `SELECT actor_key_id, org_id, subject_hash, result, detail FROM atspark.audit_log WHERE action = 'share_view' AND actor_key_id = 'share:${links.a?.id}' ORDER BY time`,
    )
    // Four uses while open (breakdown, breakdown without site=, sites, the other site's 404); none once revoked.
    expect(audit.map((r) => r.detail).sort()).toEqual(['{"path":"/breakdown"}', '{"path":"/breakdown"}', '{"path":"/breakdown"}', '{"path":"/sites"}'])
    expect(new Set(audit.map((r) => `${r.org_id}|${r.subject_hash}|${r.result}`))).toEqual(new Set(['org-a||ok']))
    const pageView = await rows<{ detail: string }>(warehouse, `SELECT detail FROM atspark.audit_log WHERE action = 'share_view' AND actor_key_id = 'share:${links.page?.id}'`)
    expect(pageView.map((r) => r.detail)).toEqual(['{"path":"/share"}'])
    const admins = await rows<{ action: string; actor_key_id: string; result: string }>(
      warehouse,
      `SELECT action, actor_key_id, result FROM atspark.audit_log WHERE action IN ('share_create', 'share_list', 'share_revoke') ORDER BY time`,
    )
    expect(admins.filter((r) => r.action === 'share_revoke')).toEqual([
      { action: 'share_revoke', actor_key_id: 'a-admin', result: 'ok' },
      { action: 'share_revoke', actor_key_id: 'a-admin', result: 'ok' },
      { action: 'share_revoke', actor_key_id: 'b-admin', result: 'not_found' },
    ])
    expect(admins.filter((r) => r.action === 'share_create' && r.result === 'ok')).toHaveLength(tokens.length)
    // Refused calls are kept as per-minute counts (the privacy API's refusal tallies), with the key that tried.
    const refused = admins.filter((r) => r.action === 'share_create' && r.result !== 'ok').map((r) => `${r.actor_key_id} ${r.result}`)
    expect(refused.sort()).toEqual(['a-analyst forbidden', 'a-privacy forbidden'])
  })

  it('an expired link answers 404 (a link written expired, next to a live one, before the pipeline restarts)', async () => {
    const now = Date.now()
    const wt = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
    const expired = `sh_${randomBytes(32).toString('base64url')}`
    const live = `sh_${randomBytes(32).toString('base64url')}`
    const row = (token: string, expiresAt: number) => ({
      link_id: randomUUID(),
      org_id: 'org-a',
      site_id: 'web',
      token_hash: sha256(token),
      label: '',
      created_by: 'a-admin',
      created_at: wt(now - 3 * DAY),
      expires_at: wt(expiresAt),
      revoked_at: null,
      version: 1,
    })
    await warehouse!.insert({ table: 'atspark.shared_links', values: [row(expired, now - 60_000), row(live, now + DAY)], format: 'JSONEachRow' })
    await warehouse!.close()
    warehouse = undefined
    pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: tenantsFile, ATSPARK_DATA_DIR: dataDir, STATS_K_ANONYMITY: String(K) })
    // The live row, written the same way, opens: the fixture itself is sound.
    expect((await shared(live, PAGES)).status).toBe(200)
    const res = await shared(expired, PAGES)
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: 'not_found', message: 'this shared link does not exist, has expired or was revoked' })
    await expectGonePage(expired)
    await expectGonePage(`sh_${'A'.repeat(43)}`)
  })
})
