import { createLogger, TenantDirectory } from '@atspark/ingest'
import { AdoptionResponse, BreakdownResponse, ConsentResponse, TimeseriesResponse } from '@atspark/schemas'
import { Registry } from 'prom-client'
import { beforeEach, describe, expect, it } from 'vitest'
import { createBackofficeApp } from '../backoffice.js'
import { generateApiKey } from '../privacy/keys.js'

const keys = { aAnalyst: generateApiKey(), aPrivacy: generateApiKey(), aAdmin: generateApiKey(), bAnalyst: generateApiKey() }
const site = (id: string, key: string) => ({ id, write_key: key, allowed_origins: ['https://x.example'], consent_mode: 'opt-in' as const })
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: 'org-a',
      name: 'A',
      api_keys: [
        { id: 'a-analyst', hash: keys.aAnalyst.hash, role: 'analyst' },
        { id: 'a-privacy', hash: keys.aPrivacy.hash, role: 'privacy' },
        { id: 'a-admin', hash: keys.aAdmin.hash, role: 'admin' },
      ],
      sites: [site('web', 'pk_aaa'), site('shop', 'pk_aab')],
    },
    { id: 'org-b', name: 'B', api_keys: [{ id: 'b-analyst', hash: keys.bAnalyst.hash, role: 'analyst' }], sites: [site('bsite', 'pk_bbb')] },
  ],
})

/** Answers by the table read; records every query so tests can see what reached the warehouse. */
let calls: { query: string; query_params: Record<string, unknown> }[]
let app: ReturnType<typeof createBackofficeApp>

function answer(query: string): unknown[] {
  if (query.includes('consent_log')) return [{ source: 'banner', grants: '40', refusals: '2' }, { source: 'gpc', grants: '0', refusals: '9' }]
  if (query.includes("type = 'feature'"))
    return [
      { t: '2026-11-01', n_accounts: '4', n_visitors: '9', n_events: '12' },
      { t: '2026-11-02', n_accounts: '6', n_visitors: '7', n_events: '9' },
    ]
  if (query.includes('GROUP BY t')) return [
      { t: '2026-11-01', n_visitors: '3', n_pageviews: '3', n_events: '4', n_sessions: '3' },
      { t: '2026-11-02', n_visitors: '8', n_pageviews: '10', n_events: '12', n_sessions: '9' },
    ]
  if (query.includes('GROUP BY value')) return [{ value: '/home', visitors: '8', events: '20' }]
  return [{ visitors: '2', events: '3' }]
}

beforeEach(() => {
  calls = []
  const warehouse = {
    ping: async () => ({ success: true }),
    query: async (q: { query: string; query_params: Record<string, unknown> }) => {
      calls.push(q)
      return { json: async () => answer(q.query) }
    },
  } as unknown as Parameters<typeof createBackofficeApp>[0]['warehouse']
  app = createBackofficeApp({ warehouse, registries: [new Registry()], stats: { warehouse, tenants: () => tenants, logger: createLogger('stats-test', 'silent'), k: 5 } })
})

const get = (path: string, key?: string) => app.request(path, { headers: key ? { authorization: `Bearer ${key}` } : {} })

describe('stats API auth and scope', () => {
  it('401 without or with an unknown key, 403 for a privacy key; nothing reaches the warehouse', async () => {
    expect((await get('/v1/stats/timeseries?site=web')).status).toBe(401)
    expect((await get('/v1/stats/timeseries?site=web', 'sk_nope')).status).toBe(401)
    expect((await get('/v1/stats/timeseries?site=web', keys.aPrivacy.key)).status).toBe(403)
    expect(calls).toEqual([])
  })

  it('takes the org from the key: another org’s site is 404, org_id in the query is ignored', async () => {
    expect((await get('/v1/stats/timeseries?site=bsite', keys.aAnalyst.key)).status).toBe(404)
    const res = await get('/v1/stats/timeseries?site=web&org_id=org-b', keys.aAnalyst.key)
    expect(res.status).toBe(200)
    expect(calls.map((c) => c.query_params.org)).toEqual(['org-a'])
    expect((await get('/v1/stats/timeseries', keys.bAnalyst.key)).status).toBe(200)
    expect(calls[1]?.query_params).toMatchObject({ org: 'org-b', site: 'bsite' })
    // Two sites: which one must be said.
    expect((await get('/v1/stats/timeseries', keys.aAdmin.key)).status).toBe(400)
  })

  it('400 for a bad query', async () => {
    expect((await get('/v1/stats/breakdown?site=web&dimension=anon_id', keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/timeseries?site=web&tz=Nowhere/Land', keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/timeseries?site=web&from=2026-11-02&to=2026-11-01', keys.aAnalyst.key)).status).toBe(400)
  })
})

describe('stats API answers', () => {
  it('timeseries hides buckets under k', async () => {
    const body = TimeseriesResponse.parse(await (await get('/v1/stats/timeseries?site=web&from=2026-10-01&to=2026-11-05', keys.aAnalyst.key)).json())
    expect(body.source).toBe('rollup_daily')
    expect(body.buckets).toEqual([
      { t: '2026-11-01', hidden: true, visitors: null, pageviews: null, events: null, sessions: null },
      { t: '2026-11-02', hidden: false, visitors: 8, pageviews: 10, events: 12, sessions: 9 },
    ])
  })

  it('breakdown hides an "other" under k', async () => {
    const body = BreakdownResponse.parse(await (await get('/v1/stats/breakdown?site=web&dimension=url_path&type=pageview', keys.aAnalyst.key)).json())
    expect(body.rows).toEqual([{ value: '/home', visitors: 8, events: 20 }])
    expect(body.other).toBeNull()
    expect(calls[1]?.query_params.kept).toEqual(['/home'])
  })

  it('consent hides small counts and what would reveal them', async () => {
    const body = ConsentResponse.parse(await (await get('/v1/stats/consent?site=web', keys.aAnalyst.key)).json())
    expect(body.sources).toEqual([
      { source: 'banner', grants: 40, refusals: null },
      { source: 'gpc', grants: 0, refusals: null },
    ])
    expect(body).toMatchObject({ grants: 40, refusals: 11, grant_rate: 40 / 51 })
  })

  it('adoption hides periods with fewer than k accounts, with the feature as a parameter', async () => {
    const body = AdoptionResponse.parse(await (await get('/v1/stats/adoption?site=web&feature=export%27csv', keys.aAnalyst.key)).json())
    expect(body.buckets).toEqual([
      { t: '2026-11-01', hidden: true, accounts: null, visitors: null, events: null },
      { t: '2026-11-02', hidden: false, accounts: 6, visitors: 7, events: 9 },
    ])
    expect(calls[0]?.query_params.feature).toBe("export'csv")
    expect(calls[0]?.query).not.toContain('export')
  })

  it('serves an OpenAPI 3.1 document without auth', async () => {
    const doc = (await (await get('/openapi.json')).json()) as { openapi: string; paths: Record<string, unknown> }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(['/v1/stats/timeseries', '/v1/stats/breakdown', '/v1/stats/consent', '/v1/stats/adoption'])
  })
})
