import { createLogger, TenantDirectory, generateApiKey } from '@atspark/runtime'
import { AdoptionResponse, BreakdownResponse, CohortsResponse, ConsentResponse, FunnelResponse, SitesResponse, TimeseriesResponse } from '@atspark/schemas'
import { Registry } from 'prom-client'
import { beforeEach, describe, expect, it } from 'vitest'
import { createBackofficeApp } from '../app.js'

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
      sites: [site('web', 'pk_aaa'), { ...site('shop', 'pk_aab'), consent_mode: 'opt-out' as const, retention_months: 3 }],
    },
    { id: 'org-b', name: 'B', api_keys: [{ id: 'b-analyst', hash: keys.bAnalyst.hash, role: 'analyst' }], sites: [site('bsite', 'pk_bbb')] },
  ],
})

/** Answers by the table read; records every query so tests can see what reached the warehouse. */
let calls: { query: string; query_params: Record<string, unknown>; query_id?: string }[]
let app: ReturnType<typeof createBackofficeApp>
/** Per-test answers, tried before the defaults: [a text the query contains, its rows or the error the client throws]. */
let overrides: [string, unknown[] | Error][]
/** The engine's zone list as a test engine has it: no America/Coyhaique (newer than its tzdata, known to Intl). */
const ENGINE_ZONES = ['UTC', 'Etc/UTC', 'America/New_York', 'Europe/Berlin', 'US/Eastern', 'Asia/Kolkata']
/** Every line the stats API logged in this test. */
let logged: string[]
const NOW = Date.parse('2026-11-28T12:00:00Z')

function answer(query: string): unknown[] | Error {
  for (const [text, rows] of overrides) if (query.includes(text)) return rows
  if (query.includes('system.time_zones')) return ENGINE_ZONES.map((time_zone) => ({ time_zone }))
  if (query.includes('ARRAY JOIN')) return []
  if (query.includes('n_bounces'))
    return [
      { t: '2026-11-01', n_bounces: '1', n_sessions: '3', n_visitors: '3' },
      { t: '2026-11-02', n_bounces: '3', n_sessions: '9', n_visitors: '8' },
    ]
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
  overrides = []
  logged = []
  const warehouse = {
    ping: async () => ({ success: true }),
    query: async (q: { query: string; query_params: Record<string, unknown>; query_id?: string }) => {
      calls.push(q)
      const rows = answer(q.query)
      if (rows instanceof Error) throw rows
      return { json: async () => rows }
    },
  } as unknown as Parameters<typeof createBackofficeApp>[0]['warehouse']
  const logger = createLogger('stats-test', 'info', { write: (line: string) => void logged.push(line) })
  app = createBackofficeApp({ warehouse, registries: [new Registry()], stats: { warehouse, tenants: () => tenants, logger, k: 5, now: () => NOW } })
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
    const res = await get('/v1/stats/timeseries?site=web&org_id=org-b&bounce=true', keys.aAnalyst.key)
    expect(res.status).toBe(200)
    // The series and its bounce rates: both scoped to the key's org.
    expect(calls.map((c) => c.query_params.org)).toEqual(['org-a', 'org-a'])
    calls = []
    expect((await get('/v1/stats/timeseries', keys.bAnalyst.key)).status).toBe(200)
    expect(calls[0]?.query_params).toMatchObject({ org: 'org-b', site: 'bsite' })
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
  it('timeseries hides buckets under k, with a bounce rate only for shown ones', async () => {
    const body = TimeseriesResponse.parse(await (await get('/v1/stats/timeseries?site=web&from=2026-10-01&to=2026-11-05&bounce=true', keys.aAnalyst.key)).json())
    expect(body.source).toBe('rollup_dims_daily')
    expect(body.buckets).toEqual([
      { t: '2026-11-01', hidden: true, visitors: null, pageviews: null, events: null, sessions: null, bounce_rate: null },
      { t: '2026-11-02', hidden: false, visitors: 8, pageviews: 10, events: 12, sessions: 9, bounce_rate: 3 / 9 },
    ])
    const bounce = calls.find((c) => c.query.includes('n_bounces'))
    expect(bounce?.query).toContain('FROM atspark.events')
    expect(bounce?.query_params).toMatchObject({ org: 'org-a', site: 'web', from: '2026-10-01', to: '2026-11-05' })
  })

  it('reads raw events for bounce rates only when bounce=true: without it, one rollup query and no bounce_rate', async () => {
    for (const q of ['', '&bounce=false']) {
      calls = []
      const body = TimeseriesResponse.parse(await (await get(`/v1/stats/timeseries?site=web&from=2026-10-01&to=2026-11-05${q}`, keys.aAnalyst.key)).json())
      expect(calls.map((c) => /FROM atspark\.(\w+)/.exec(c.query)?.[1])).toEqual(['rollup_dims_daily'])
      expect(body.buckets).toEqual([
        { t: '2026-11-01', hidden: true, visitors: null, pageviews: null, events: null, sessions: null },
        { t: '2026-11-02', hidden: false, visitors: 8, pageviews: 10, events: 12, sessions: 9 },
      ])
    }
    calls = []
    await get('/v1/stats/timeseries?site=web&from=2026-10-01&to=2026-11-05&bounce=true', keys.aAnalyst.key)
    expect(calls.map((c) => /FROM atspark\.(\w+)/.exec(c.query)?.[1])).toEqual(['rollup_dims_daily', 'events'])
    for (const bad of ['1', 'yes', 'TRUE', '']) expect((await get(`/v1/stats/timeseries?site=web&bounce=${bad}`, keys.aAnalyst.key)).status, bad).toBe(400)
  })

  it('source=raw reads events with exact counts; auto and rollup read the rollup; anything else is 400', async () => {
    const raw = TimeseriesResponse.parse(await (await get('/v1/stats/timeseries?site=web&from=2026-10-01&to=2026-11-05&source=raw', keys.aAnalyst.key)).json())
    expect(raw.source).toBe('events')
    expect(calls[0]?.query).toContain('FROM atspark.events')
    expect(calls[0]?.query).toContain("uniqExactIf(anon_id, anon_id != '')")
    expect(raw.buckets[1]).toMatchObject({ visitors: 8, hidden: false })
    for (const source of ['auto', 'rollup']) {
      const body = TimeseriesResponse.parse(await (await get(`/v1/stats/timeseries?site=web&from=2026-10-01&to=2026-11-05&source=${source}`, keys.aAnalyst.key)).json())
      expect(body.source).toBe('rollup_dims_daily')
    }
    const breakdown = BreakdownResponse.parse(await (await get('/v1/stats/breakdown?site=web&dimension=url_path&source=raw', keys.aAnalyst.key)).json())
    expect(breakdown.source).toBe('events')
    const adoption = AdoptionResponse.parse(await (await get('/v1/stats/adoption?site=web&feature=x&source=raw', keys.aAnalyst.key)).json())
    expect(adoption.source).toBe('events')
    expect(calls.filter((c) => c.query.includes('FROM atspark.rollup')).length).toBe(2)
    expect((await get('/v1/stats/timeseries?site=web&source=events', keys.aAnalyst.key)).status).toBe(400)
  })

  it('source=raw refuses a range reaching past the site’s raw retention, before any query', async () => {
    calls = []
    // 13 months before 2026-11-28T12:00Z is 2025-10-28T12:00Z.
    const old = await get('/v1/stats/timeseries?site=web&from=2025-10-28&to=2025-11-05&source=raw', keys.aAnalyst.key)
    expect(old.status).toBe(400)
    expect(((await old.json()) as { message: string }).message).toMatch(/2025-10-29 or later/)
    expect((await get('/v1/stats/timeseries?site=web&from=2025-10-29&to=2025-11-05&source=raw', keys.aAnalyst.key)).status).toBe(200)
    // shop keeps raw events 3 months.
    expect((await get('/v1/stats/breakdown?site=shop&dimension=country&from=2026-08-01&to=2026-09-01&source=raw', keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/breakdown?site=shop&dimension=country&from=2026-08-29&to=2026-09-01&source=raw', keys.aAnalyst.key)).status).toBe(200)
    expect(calls.every((c) => c.query_params.from !== '2025-10-28' && c.query_params.from !== '2026-08-01')).toBe(true)
  })

  it('bounce rate is null for buckets the raw retention no longer covers', async () => {
    overrides = [
      [
        'n_bounces',
        ['2025-09-01', '2025-10-01', '2025-11-01'].map((t) => ({ t, n_bounces: '5', n_sessions: '10', n_visitors: '10' })),
      ],
      ['GROUP BY t', ['2025-09-01', '2025-10-01', '2025-11-01'].map((t) => ({ t, n_visitors: '10', n_pageviews: '10', n_events: '10', n_sessions: '10' }))],
    ]
    const body = TimeseriesResponse.parse(await (await get('/v1/stats/timeseries?site=web&from=2025-09-01&to=2025-12-01&interval=month&bounce=true', keys.aAnalyst.key)).json())
    expect(body.buckets.map((b) => b.bounce_rate)).toEqual([null, null, 0.5])
    // Wholly before the horizon: no raw read at all.
    calls = []
    const old = TimeseriesResponse.parse(await (await get('/v1/stats/timeseries?site=web&from=2025-09-01&to=2025-10-01&interval=month&bounce=true', keys.aAnalyst.key)).json())
    expect(old.buckets.every((b) => b.bounce_rate === null)).toBe(true)
    expect(calls.some((c) => c.query.includes('n_bounces'))).toBe(false)
  })

  it('sites: the key’s org and its sites, never a write key', async () => {
    const res = await get('/v1/stats/sites?org_id=org-b', keys.aAnalyst.key)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(SitesResponse.parse(JSON.parse(text))).toEqual({
      org_id: 'org-a',
      sites: [
        { id: 'web', allowed_origins: ['https://x.example'], consent_mode: 'opt-in' },
        { id: 'shop', allowed_origins: ['https://x.example'], consent_mode: 'opt-out' },
      ],
    })
    expect(text).not.toContain('pk_')
    expect((await (await get('/v1/stats/sites', keys.bAnalyst.key)).json()) as unknown).toEqual({
      org_id: 'org-b',
      sites: [{ id: 'bsite', allowed_origins: ['https://x.example'], consent_mode: 'opt-in' }],
    })
    expect((await get('/v1/stats/sites', keys.aPrivacy.key)).status).toBe(403)
    expect((await get('/v1/stats/sites')).status).toBe(401)
    expect(calls).toEqual([])
  })

  it('funnel: visitors per step from windowFunnel levels, hidden from the first step under k', async () => {
    overrides = [
      [
        'windowFunnel',
        [
          { level: 1, visitors: '4' },
          { level: 2, visitors: '10' },
          { level: 3, visitors: '3' },
        ],
      ],
    ]
    const res = await get(`/v1/stats/funnel?site=web&steps=${encodeURIComponent("pageview:/pricing,click:cta,signup'up")}&window=600`, keys.aAnalyst.key)
    expect(res.status).toBe(200)
    const body = FunnelResponse.parse(await res.json())
    expect(body).toMatchObject({ org_id: 'org-a', site: 'web', window: 600, source: 'events', k: 5 })
    expect(body.steps).toEqual([
      { step: 'pageview:/pricing', type: 'pageview', value: '/pricing', visitors: 17, conversion: null },
      { step: 'click:cta', type: 'click', value: 'cta', visitors: 13, conversion: 13 / 17 },
      { step: "signup'up", type: null, value: "signup'up", visitors: null, conversion: null },
    ])
    expect(calls[0]?.query).not.toContain('signup')
    expect(calls[0]?.query).not.toContain('/pricing')
    expect(calls[0]?.query_params).toMatchObject({ org: 'org-a', s0: '/pricing', s1: 'cta', t1: 'click', s2: "signup'up", window_ms: 600_000 })
  })

  it('funnel: 2–8 steps, a window of at most a day, the key’s own site, within the raw retention', async () => {
    const eight = Array.from({ length: 8 }, (_, i) => `s${i}`).join(',')
    expect((await get(`/v1/stats/funnel?site=web&steps=${eight}`, keys.aAnalyst.key)).status).toBe(200)
    expect(calls[0]?.query_params.window_ms).toBe(1_800_000)
    calls = []
    expect((await get('/v1/stats/funnel?site=web&steps=a', keys.aAnalyst.key)).status).toBe(400)
    expect((await get(`/v1/stats/funnel?site=web&steps=${eight},s8`, keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/funnel?site=web&steps=a,b&window=86401', keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/funnel?site=web&steps=a,pageview:', keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/funnel?site=web&steps=a,b&from=2025-01-01&to=2025-02-01', keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/funnel?site=bsite&steps=a,b', keys.aAnalyst.key)).status).toBe(404)
    expect((await get('/v1/stats/funnel?site=web&steps=a,b', keys.aPrivacy.key)).status).toBe(403)
    expect(calls).toEqual([])
  })

  it('cohorts: a triangle of accounts per first-use period, cohorts and cells under k hidden', async () => {
    overrides = [
      [
        'ARRAY JOIN',
        [
          { cohort: '2026-11-02', period: '2026-11-02', accounts: '9' },
          { cohort: '2026-11-02', period: '2026-11-09', accounts: '6' },
          { cohort: '2026-11-02', period: '2026-11-16', accounts: '2' },
          { cohort: '2026-11-09', period: '2026-11-09', accounts: '3' },
          { cohort: '2026-11-09', period: '2026-11-16', accounts: '3' },
        ],
      ],
    ]
    const res = await get('/v1/stats/adoption/cohorts?site=web&feature=export&from=2026-11-02&to=2026-11-23', keys.aAnalyst.key)
    expect(res.status).toBe(200)
    const body = CohortsResponse.parse(await res.json())
    expect(body).toMatchObject({ feature: 'export', interval: 'week', source: 'events', periods: ['2026-11-02', '2026-11-09', '2026-11-16'] })
    expect(body.cohorts).toEqual([
      {
        cohort: '2026-11-02',
        hidden: false,
        accounts: 9,
        retained: [
          { t: '2026-11-09', offset: 1, accounts: 6 },
          { t: '2026-11-16', offset: 2, accounts: null },
        ],
      },
      { cohort: '2026-11-09', hidden: true, accounts: null, retained: [{ t: '2026-11-16', offset: 1, accounts: null }] },
    ])
    expect(calls[0]?.query_params).toMatchObject({ org: 'org-a', site: 'web', feature: 'export' })
    expect(calls[0]?.query).not.toContain('export')
    expect((await get('/v1/stats/adoption/cohorts?site=web&feature=x&interval=day', keys.aAnalyst.key)).status).toBe(400)
    expect((await get('/v1/stats/adoption/cohorts?site=bsite&feature=x', keys.aAnalyst.key)).status).toBe(404)
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
    expect(Object.keys(doc.paths)).toEqual([
      '/v1/stats/sites',
      '/v1/stats/timeseries',
      '/v1/stats/aggregate',
      '/v1/stats/breakdown',
      '/v1/stats/goals',
      '/v1/stats/realtime',
      '/v1/stats/realtime/integration',
      '/v1/stats/consent',
      '/v1/stats/adoption',
      '/v1/stats/adoption/cohorts',
      '/v1/stats/export',
      '/v1/stats/funnel',
      '/v1/shares',
      '/v1/shares/{id}',
      '/v1/shared/{token}/stats/{endpoint}',
    ])
    const params = (path: string) =>
      ((doc.paths[path] as { get: { parameters: { name: string }[] } }).get.parameters ?? []).map((p) => p.name)
    expect(params('/v1/stats/funnel')).toEqual(['site', 'from', 'to', 'filters', 'steps', 'window', 'format'])
    expect(params('/v1/stats/adoption/cohorts')).toEqual(['site', 'from', 'to', 'filters', 'feature', 'interval', 'format'])
    for (const path of ['/v1/stats/timeseries', '/v1/stats/breakdown', '/v1/stats/adoption']) expect(params(path)).toContain('source')
    expect(params('/v1/stats/aggregate')).toEqual(['site', 'from', 'to', 'filters', 'tz', 'goal', 'compare', 'format'])
    // Every endpoint answers format=csv but the export, which is always a zip.
    for (const path of Object.keys(doc.paths).filter((p) => p.startsWith('/v1/stats/'))) expect(params(path).includes('format'), path).toBe(path !== '/v1/stats/export')
    expect(params('/v1/stats/breakdown')).toEqual(expect.arrayContaining(['filters', 'goal', 'dimension']))
    // Shared links: the admin API with its schemas, and the stats API behind a link, without a key, telling the expiry.
    const shares = doc.paths['/v1/shares'] as Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>
    expect(Object.keys(shares)).toEqual(['post', 'get'])
    expect(shares.post?.responses['201']?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/ShareCreatedResponse')
    expect(shares.get?.responses['200']?.content?.['application/json']?.schema.$ref).toBe('#/components/schemas/ShareListResponse')
    const revoke = doc.paths['/v1/shares/{id}'] as { delete: { responses: Record<string, unknown> } }
    expect(Object.keys(revoke.delete.responses)).toEqual(expect.arrayContaining(['200', '404']))
    const viaLink = (doc.paths['/v1/shared/{token}/stats/{endpoint}'] as { get: { security: unknown[]; responses: Record<string, { headers?: Record<string, unknown> }>; parameters: { name: string; schema: { enum?: string[] } }[] } }).get
    expect(viaLink.security).toEqual([])
    expect(Object.keys(viaLink.responses['200']?.headers ?? {})).toEqual(['X-Share-Expires-At'])
    // Every stats endpoint is reachable behind a link, and the list names no other.
    expect(viaLink.parameters.find((p) => p.name === 'endpoint')?.schema.enum?.map((e) => `/v1/stats/${e}`).sort()).toEqual(
      Object.keys(doc.paths).filter((p) => p.startsWith('/v1/stats/')).sort(),
    )
    const schemas = (doc as unknown as { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }).components.schemas
    expect(Object.keys(schemas.ShareCreateBody?.properties ?? {})).toEqual(['site', 'expires_in_days', 'label'])
    expect(Object.keys(schemas.ShareListResponse?.properties ?? {})).toEqual(['shares'])
  })
})

/** One valid request per stats endpoint that takes a range; source=raw where the endpoint has it. */
const RANGED = [
  '/v1/stats/timeseries?site=web',
  '/v1/stats/timeseries?site=web&source=raw',
  '/v1/stats/breakdown?site=web&dimension=country',
  '/v1/stats/breakdown?site=web&dimension=country&source=raw',
  '/v1/stats/adoption?site=web&feature=export',
  '/v1/stats/adoption?site=web&feature=export&source=raw',
  '/v1/stats/adoption/cohorts?site=web&feature=export',
  '/v1/stats/funnel?site=web&steps=a,b',
  '/v1/stats/consent?site=web',
]
/** The endpoints that take tz. */
const ZONED = RANGED.filter((p) => p.includes('/timeseries') || p.includes('/adoption?'))

const refusal = async (path: string) => {
  const res = await get(path, keys.aAnalyst.key)
  return { status: res.status, body: (await res.json()) as { error: string; param?: string; message: string } }
}

describe('stats API input: dates and time zones are checked before any query', () => {
  it('every ranged endpoint answers 200 to a valid range (the fixtures below differ only in the bad value)', async () => {
    for (const path of RANGED) expect((await get(`${path}&from=2026-11-01&to=2026-11-20`, keys.aAnalyst.key)).status, path).toBe(200)
  })

  it.each([
    ['from', '2026-02-30'],
    ['to', '2026-13-01'],
    ['from', '2026-11-31'],
    ['from', '2026-02-29'],
    ['to', '2026-04-31T00:00'],
    ['from', '2026-11-01T24:00'],
    ['to', '2026-11-00'],
    ['from', '1969-12-31'],
    ['to', '2107-01-01'],
    ['from', '2026-1-01'],
    ['to', 'tomorrow'],
  ])('%s=%s is 400 invalid_date naming the parameter, on every endpoint, with nothing sent to the warehouse', async (param, value) => {
    const other = param === 'from' ? '&to=2026-11-20' : '&from=2026-11-01'
    for (const path of RANGED) {
      const { status, body } = await refusal(`${path}&${param}=${value}${other}`)
      expect(status, path).toBe(400)
      expect(body, path).toMatchObject({ error: 'invalid_date', param })
    }
    expect(calls).toEqual([])
  })

  it('a leap day is a date', async () => {
    expect((await get('/v1/stats/timeseries?site=web&from=2028-02-29&to=2028-03-01', keys.aAnalyst.key)).status).toBe(200)
  })

  it('a range the wrong way round or too long is 400 invalid_range', async () => {
    for (const path of RANGED) {
      expect(await refusal(`${path}&from=2026-11-02&to=2026-11-01`), path).toMatchObject({ status: 400, body: { error: 'invalid_range', param: 'from' } })
      expect(await refusal(`${path}&from=2020-01-01&to=2026-11-01`), path).toMatchObject({ status: 400, body: { error: 'invalid_range', param: 'from' } })
    }
  })

  it.each(['Nowhere/Land', 'america/new_yorkk', '+01:00', 'UTC+1', '', '../etc/passwd', 'America/New York'])(
    'tz=%j is 400 invalid_timezone wherever tz is taken, before any query',
    async (tz) => {
      for (const path of ZONED) expect(await refusal(`${path}&tz=${encodeURIComponent(tz)}`), path).toMatchObject({ status: 400, body: { error: 'invalid_timezone', param: 'tz' } })
      expect(calls).toEqual([])
    },
  )

  it('a zone the runtime knows but the engine does not is 400 invalid_timezone, checked against the engine’s own list', async () => {
    expect(new Intl.DateTimeFormat('en', { timeZone: 'America/Coyhaique' }).resolvedOptions().timeZone).toBe('America/Coyhaique')
    for (const path of ZONED) {
      calls = []
      expect(await refusal(`${path}&tz=America/Coyhaique`), path).toMatchObject({ status: 400, body: { error: 'invalid_timezone', param: 'tz' } })
      // Only the zone list was read (once per app: the first path read it).
      expect(calls.every((c) => c.query.includes('system.time_zones')), path).toBe(true)
    }
  })

  it('a zone in another case is asked of the engine (case-sensitive) in the engine’s spelling, and answered so', async () => {
    for (const [given, spelled] of [
      ['america/new_york', 'America/New_York'],
      ['AMERICA/NEW_YORK', 'America/New_York'],
      ['us/eastern', 'US/Eastern'],
      ['asia/kolkata', 'Asia/Kolkata'],
      ['utc', 'UTC'],
    ]) {
      for (const path of ZONED) {
        calls = []
        const res = await get(`${path}&tz=${given}`, keys.aAnalyst.key)
        expect(res.status, `${path} ${given}`).toBe(200)
        expect(((await res.json()) as { tz: string }).tz).toBe(spelled)
        const reads = calls.filter((c) => !c.query.includes('system.time_zones'))
        expect(reads.length).toBeGreaterThan(0)
        for (const c of reads) expect(c.query_params.tz, `${path} ${given}`).toBe(spelled)
      }
    }
  })

  it('the default zone UTC costs no zone-list read', async () => {
    await get('/v1/stats/timeseries?site=web', keys.aAnalyst.key)
    expect(calls.some((c) => c.query.includes('system.time_zones'))).toBe(false)
  })

  it('other bad parameters are 400 invalid_request naming the parameter; /sites ignores range parameters', async () => {
    expect(await refusal('/v1/stats/breakdown?site=web&dimension=anon_id')).toMatchObject({ status: 400, body: { error: 'invalid_request', param: 'dimension' } })
    expect(await refusal('/v1/stats/timeseries?site=web&interval=minute')).toMatchObject({ status: 400, body: { error: 'invalid_request', param: 'interval' } })
    expect(await refusal('/v1/stats/funnel?site=web&steps=a')).toMatchObject({ status: 400, body: { error: 'invalid_request', param: 'steps' } })
    expect(await refusal('/v1/stats/timeseries')).toMatchObject({ status: 400 })
    expect((await get('/v1/stats/timeseries', keys.aAdmin.key)).status).toBe(400)
    expect((await get('/v1/stats/sites?from=2026-02-30&tz=america/new_york', keys.aAnalyst.key)).status).toBe(200)
  })
})

/** What the engine throws: its message quotes the SQL with the parameters inlined. */
const engineError = (code: string, type: string) =>
  Object.assign(new Error(`Cannot do it: In scope SELECT uniqMerge(visitors) FROM atspark.rollup_dims_hourly WHERE org_id = 'org-a' AND site_id = 'web' AND bucket >= parseDateTimeBestEffort('2026-11-01', 'UTC') AND value = 'export-secret-feature'. `), {
    code,
    type,
  })

describe('stats API warehouse failures: a query id and the engine code, never the SQL or its parameters', () => {
  it.each([
    ['a refused value (input’s fault)', '36', 'BAD_ARGUMENTS', 400, 'invalid_request', 'warn'],
    ['an answer too large', '396', 'TOO_MANY_ROWS_OR_BYTES', 400, 'invalid_range', 'warn'],
    ['the time limit', '159', 'TIMEOUT_EXCEEDED', 503, 'timeout', 'warn'],
    ['memory', '241', 'MEMORY_LIMIT_EXCEEDED', 503, 'warehouse_unavailable', 'warn'],
    ['a refused connection', 'ECONNREFUSED', '', 503, 'warehouse_unavailable', 'warn'],
    ['an unknown table (our fault)', '60', 'UNKNOWN_TABLE', 500, 'internal', 'error'],
  ])('%s: %s %s → %i %s', async (_name, code, type, status, error, level) => {
    overrides = [['FROM atspark.', engineError(code, type)]]
    for (const path of RANGED) {
      calls = []
      logged = []
      const res = await get(`${path}&from=2026-11-01&to=2026-11-20&tz=America/New_York`, keys.aAnalyst.key)
      const body = (await res.json()) as { error: string; message: string; query_id?: string }
      expect(res.status, path).toBe(status)
      expect(body.error, path).toBe(error)
      const failed = calls.find((c) => c.query.includes('FROM atspark.'))
      // The id the warehouse was given is the one answered and the one logged.
      expect(failed?.query_id, path).toMatch(/^[0-9a-f-]{36}$/)
      expect(body.query_id, path).toBe(failed?.query_id)
      expect(logged.length, path).toBe(1)
      const line = JSON.parse(logged[0] as string) as Record<string, unknown>
      expect(line, path).toMatchObject({ level: level === 'error' ? 50 : 40, msg: 'stats query failed', query_id: failed?.query_id, code, status })
      for (const text of [logged[0] as string, JSON.stringify(body)]) {
        expect(text, path).not.toMatch(/SELECT|FROM atspark|parseDateTime|In scope|export-secret-feature|'web'|2026-11-01|2026-11-20|America\/New_York/)
      }
    }
  })

  it('an error that is no warehouse answer stays a 500 without a query id', async () => {
    overrides = [['FROM atspark.', [{ t: '2026-11-01', n_visitors: 'seven' }]]]
    const res = await get('/v1/stats/timeseries?site=web', keys.aAnalyst.key)
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({ error: 'internal', message: 'internal error' })
  })

  it('a failed zone-list read is retried by the next request', async () => {
    overrides = [['system.time_zones', engineError('210', 'NETWORK_ERROR')]]
    expect((await get('/v1/stats/timeseries?site=web&tz=Europe/Berlin', keys.aAnalyst.key)).status).toBe(503)
    overrides = []
    expect((await get('/v1/stats/timeseries?site=web&tz=Europe/Berlin', keys.aAnalyst.key)).status).toBe(200)
  })
})
