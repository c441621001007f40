import { createLogger, TenantDirectory } from '@atspark/runtime'
import { CohortsResponse, FunnelResponse, GoalsResponse, SitesResponse, TimeseriesResponse } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStatsApp } from './api.js'
import { compileFilters, rowForm } from './filters.js'
import { pagePatternRegex } from './goals.js'
import { lastBegunBucket } from './raw-retention.js'
import { type ChdbWarehouse, event, insertEvents, openTestWarehouse, statsAppOn } from './test-fixtures.js'

/** Filters on the series, funnel and cohort endpoints, on the real engine; the SQL builders' shape; the shared-link principal. */

const NOW = Date.parse('2026-11-03T12:00:00Z')
const T = (iso: string) => Date.parse(`${iso}Z`)
let wh: ChdbWarehouse

beforeAll(async () => {
  wh = await openTestWarehouse()
  const a = (at: string, f: Parameters<typeof event>[3]) => event('org-a', 'web', T(at), f)
  const rows = []
  // Nov 1: d1–d3 (DE), f1 and f2 (FR); Nov 2: f3 (FR); each views /a then signs up; d1–d3 are accounts using feature export.
  for (const v of ['d1', 'd2', 'd3', 'f1', 'f2', 'f3']) {
    const base = { anon_id: v, session_id: `s-${v}`, country: v.startsWith('f') ? 'FR' : 'DE' }
    const day = v === 'f3' ? '2026-11-02' : '2026-11-01'
    rows.push(a(`${day}T10:00:00`, { ...base, url_path: '/a' }))
    rows.push(a(`${day}T10:05:00`, { ...base, type: 'custom', name: 'signup', url_path: '/a' }))
    if (v.startsWith('d')) rows.push(a(`${day}T10:06:00`, { ...base, type: 'feature', name: 'export', user_pid: `u-${v}` }))
  }
  // Nov 2: two DE visitors bounce; an event stamped in the future (a skewed clock) must not make a bucket.
  rows.push(a('2026-11-02T09:00:00', { anon_id: 'd4', session_id: 's-d4', url_path: '/b' }))
  rows.push(a('2026-11-02T09:30:00', { anon_id: 'd6', session_id: 's-d6', url_path: '/b' }))
  rows.push(a('2026-11-05T09:00:00', { anon_id: 'd5', session_id: 's-d5', url_path: '/b' }))
  // Org B, same site id: must never show.
  for (let i = 0; i < 4; i++) rows.push(event('org-b', 'web', T('2026-11-02T09:00:00'), { anon_id: `b${i}`, session_id: `bs${i}`, country: 'DE' }))
  await insertEvents(wh.client, rows)
}, 60_000)
afterAll(async () => wh?.close())

const RANGE = 'site=web&from=2026-11-01&to=2026-11-10'
const call = async (k: number, path: string) => {
  const { get } = statsAppOn(wh.client, { k, now: NOW, goals: [{ name: 'Signup', event: 'signup' }] })
  return get(path)
}
const ok = async (k: number, path: string) => {
  const res = await call(k, path)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}

describe('filtered timeseries', () => {
  it('reads raw events under the filters, hides a bucket under k and stops at the bucket now is in', async () => {
    const body = TimeseriesResponse.parse(await ok(3, `/timeseries?${RANGE}&filters=country%3D%3DDE`))
    expect(body).toMatchObject({ source: 'events', filters: 'country==DE', until: '2026-11-03' })
    expect(body.buckets).toEqual([
      { t: '2026-11-01', hidden: false, visitors: 3, pageviews: 3, events: 9, sessions: 3 },
      { t: '2026-11-02', hidden: true, visitors: null, pageviews: null, events: null, sessions: null },
    ])
  })

  it('hides a bucket from which a != removes k−1 visitors, not one it removes k from', async () => {
    // country!=FR removes f1 and f2 from Nov 1 (k at k=2) and f3 from Nov 2 (k−1), three in all.
    const body = TimeseriesResponse.parse(await ok(1, `/timeseries?${RANGE}&filters=country!%3DFR`))
    expect(body.buckets.map((b) => [b.t, b.visitors])).toEqual([
      ['2026-11-01', 3],
      ['2026-11-02', 2],
    ])
    const k2 = TimeseriesResponse.parse(await ok(2, `/timeseries?${RANGE}&filters=country!%3DFR`))
    expect(k2.buckets.map((b) => [b.t, b.hidden])).toEqual([
      ['2026-11-01', false],
      ['2026-11-02', true],
    ])
    // At k=4 the three French visitors the filter leaves out in all are k−1: the whole series is hidden.
    const k4 = TimeseriesResponse.parse(await ok(4, `/timeseries?${RANGE}&filters=country!%3DFR`))
    expect(k4.buckets.every((b) => b.hidden)).toBe(true)
  })

  it('gives bounce rates of the kept visits', async () => {
    const body = TimeseriesResponse.parse(await ok(2, `/timeseries?${RANGE}&filters=url_path%3D%3D/a&bounce=true`))
    expect(body.buckets).toEqual([
      { t: '2026-11-01', hidden: false, visitors: 5, pageviews: 5, events: 10, sessions: 5, bounce_rate: 0 },
      { t: '2026-11-02', hidden: true, visitors: null, pageviews: null, events: null, sessions: null, bounce_rate: null },
    ])
  })

  it('refuses filters with source=rollup, and on /consent', async () => {
    expect(await call(2, `/timeseries?${RANGE}&filters=country%3D%3DDE&source=rollup`)).toMatchObject({ status: 400, body: { param: 'source' } })
    expect(await call(2, `/consent?${RANGE}&filters=country%3D%3DDE`)).toMatchObject({ status: 400, body: { error: 'invalid_filter', param: 'filters' } })
  })

  it('passes hostile values as parameters', async () => {
    const body = TimeseriesResponse.parse(await ok(1, `/timeseries?${RANGE}&filters=${encodeURIComponent("url_path==/a' OR 1=1 --|x\\\\")}`))
    expect(body.buckets).toEqual([])
  })
})

describe('filtered funnels, cohorts and adoption', () => {
  it('counts a funnel over the kept events only, and hides it when a != singles someone out', async () => {
    const steps = 'steps=pageview:/a,custom:signup'
    const de = FunnelResponse.parse(await ok(3, `/funnel?${RANGE}&${steps}&filters=country%3D%3DDE`))
    expect(de.steps.map((s) => s.visitors)).toEqual([3, 3])
    expect(de.filters).toBe('country==DE')
    const all = FunnelResponse.parse(await ok(3, `/funnel?${RANGE}&${steps}`))
    expect(all.steps.map((s) => s.visitors)).toEqual([6, 6])
    // country!=FR leaves out three visitors: k at k=3, k−1 at k=4.
    expect(FunnelResponse.parse(await ok(3, `/funnel?${RANGE}&${steps}&filters=country!%3DFR`)).steps.map((s) => s.visitors)).toEqual([3, 3])
    const not = FunnelResponse.parse(await ok(4, `/funnel?${RANGE}&${steps}&filters=country!%3DFR`))
    expect(not.steps.map((s) => s.visitors)).toEqual([null, null])
    // url_path!=/b leaves out d4, d5 and d6 (k−1 at k=4) though six visitors reach both steps: hidden whole; shown at k=3.
    const notB = FunnelResponse.parse(await ok(4, `/funnel?${RANGE}&${steps}&filters=url_path!%3D/b`))
    expect(notB.steps.map((s) => s.visitors)).toEqual([null, null])
    expect(FunnelResponse.parse(await ok(3, `/funnel?${RANGE}&${steps}&filters=url_path!%3D/b`)).steps.map((s) => s.visitors)).toEqual([6, 6])
  })

  it('builds cohorts from the kept events', async () => {
    const de = CohortsResponse.parse(await ok(3, `/adoption/cohorts?${RANGE}&feature=export&filters=country%3D%3DDE`))
    expect(de.cohorts.map((c) => c.accounts)).toEqual([3])
    const isolated = CohortsResponse.parse(await ok(3, `/adoption/cohorts?${RANGE}&feature=export&filters=country%3D%3DFR`))
    expect(isolated.cohorts).toEqual([])
  })

  it('filters adoption by a goal', async () => {
    const body = await ok(3, `/adoption?${RANGE}&feature=export&filters=goal!%3DSignup`)
    expect((body.buckets as { accounts: number | null }[]).map((b) => b.accounts)).toEqual([3])
  })
})

describe('goals and the principal', () => {
  it('lists the site’s goals', async () => {
    expect(GoalsResponse.parse(await ok(2, '/goals?site=web'))).toEqual({ org_id: 'org-a', site: 'web', goals: [{ name: 'Signup', kind: 'event', match: 'signup' }] })
  })

  it('locks a shared principal to its site: another site of the org is 404, /sites lists its own', async () => {
    const site = (id: string, key: string) => ({ id, write_key: key, allowed_origins: ['https://x.example'], consent_mode: 'opt-in' as const })
    const tenants = TenantDirectory.from({ orgs: [{ id: 'org-a', name: 'A', sites: [site('web', 'pk_aaa'), site('shop', 'pk_aab')] }] })
    const app = createStatsApp(
      { warehouse: wh.client, tenants: () => tenants, logger: createLogger('t', 'warn', { write: () => {} }), k: 1, now: () => NOW },
      { authenticate: async () => ({ orgId: 'org-a', keyId: 'share:x', role: 'shared', site: 'web' }) },
    )
    const get = async (path: string) => app.request(path)
    expect(SitesResponse.parse(await (await get('/sites')).json()).sites.map((s) => s.id)).toEqual(['web'])
    expect((await get('/goals?site=shop')).status).toBe(404)
    expect(await (await get('/goals')).json()).toMatchObject({ site: 'web' })
    const refused = createStatsApp({ warehouse: wh.client, tenants: () => tenants, logger: createLogger('t', 'warn', { write: () => {} }), k: 1 }, { authenticate: async (c) => c.json({ error: 'not_found' }, 404) })
    expect((await refused.request('/sites')).status).toBe(404)
  })
})

describe('filter SQL', () => {
  it('carries every value and prop key as a parameter', () => {
    const f = compileFilters(
      [
        { dimension: 'props.plan', op: 'is', values: ["pro'"] },
        { dimension: 'channel', op: 'not_contains', values: ['x'] },
      ],
      { goals: [] },
    )
    const r = rowForm(f)
    expect(JSON.stringify(r)).not.toContain("pro'")
    expect(f.params).toEqual({ f0: ["pro'"], f0_key: 'plan', f1: ['x'] })
    expect(r.where).toContain('props[{f0_key:String}] IN {f0:Array(String)}')
    // A stamped visit value is the event's column, tested only on events with a session (!~ too).
    expect(r.kept).toContain("(session_id != '' AND NOT (multiSearchAnyCaseInsensitiveUTF8(channel, {f1:Array(String)}) AND session_id != ''))")
    expect(r.prewhere).toBe('')
    expect(r.removed).toHaveLength(1)
  })

  it('turns page patterns into anchored regexes: * within a segment, ** across', () => {
    expect(pagePatternRegex('/pricing*')).toBe('^/pricing[^/]*$')
    expect(pagePatternRegex('/docs/**')).toBe('^/docs/.*$')
    expect(pagePatternRegex('/a.b(c)')).toBe('^/a\\.b\\(c\\)$')
  })

  it('stops the series at the bucket now is in, or the range’s last one', () => {
    const r = { from: '2026-11-01', to: '2026-11-10', tz: 'UTC' }
    expect(lastBegunBucket(r, 'day', NOW)).toBe('2026-11-03')
    expect(lastBegunBucket(r, 'hour', NOW)).toBe('2026-11-03T12:00:00')
    expect(lastBegunBucket({ ...r, tz: 'Asia/Kolkata' }, 'hour', NOW)).toBe('2026-11-03T17:00:00')
    expect(lastBegunBucket(r, 'day', T('2026-12-01T00:00:00'))).toBe('2026-11-09')
    expect(lastBegunBucket(r, 'day', T('2026-10-01T00:00:00'))).toBeNull()
  })
})
