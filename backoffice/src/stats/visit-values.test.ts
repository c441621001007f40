import { AggregateResponse, BreakdownResponse, TimeseriesResponse } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aggregateQuery } from './aggregate.js'
import { compileFilters, rowForm } from './filters.js'
import { complementQuery, timeseriesQuery } from './queries.js'
import { type ChdbWarehouse, event, insertEvents, openTestWarehouse, statsAppOn } from './test-fixtures.js'

/**
 * Visit values stamped at write time (the processor puts a visit's source and entry page on each of its events):
 * the stats read those columns event by event, whole visits still measured whole, events without a session matched
 * by no visit clause, and the differencing guard's rules on their event-level forms. k = 3 unless said.
 */

const NOW = Date.parse('2026-11-20T12:00:00Z')
const T = (iso: string) => Date.parse(`${iso}Z`)
let wh: ChdbWarehouse

beforeAll(async () => {
  wh = await openTestWarehouse()
  const a = (at: number, f: Parameters<typeof event>[3]) => event('org-a', 'web', at, f)
  const day = T('2026-11-02T10:00:00')
  const rows = []
  // d1–d3 Direct: a pageview of / then a click; the click's own channel (Internal) is not its visit's.
  for (const [i, v] of ['d1', 'd2', 'd3'].entries()) {
    rows.push(a(day + i * 3_600_000, { anon_id: v, session_id: `s-${v}`, url_path: '/', channel: 'Direct' }))
    rows.push(a(day + i * 3_600_000 + 30_000, { anon_id: v, session_id: `s-${v}`, type: 'click', name: 'cta', url_path: '/', channel: 'Internal' }))
  }
  // r1–r2 Referral (k−1), g1–g4 Organic Search: one pageview each.
  for (const v of ['r1', 'r2']) rows.push(a(day + 60_000, { anon_id: v, session_id: `s-${v}`, url_path: '/r', channel: 'Referral', referrer_host: 'partner.example' }))
  for (const v of ['g1', 'g2', 'g3', 'g4']) rows.push(a(day + 120_000, { anon_id: v, session_id: `s-${v}`, url_path: '/g', channel: 'Organic Search', utm_source: 'google' }))
  // n1–n3 send custom events without a session, their own channel Direct: no visit, so no visit clause keeps them.
  for (const v of ['n1', 'n2', 'n3']) rows.push(a(day + 180_000, { anon_id: v, session_id: '', type: 'custom', name: 'ping', channel: 'Direct' }))
  // Org B: five Referral visits on a site of the same id.
  for (let i = 0; i < 5; i++) rows.push(event('org-b', 'web', day, { anon_id: `b${i}`, session_id: `bs${i}`, url_path: '/r', channel: 'Referral' }))
  await insertEvents(wh.client, rows)
  // e1–e3 (Email): a click written in one batch, the visit's first pageview (/late) and a signup in the next one: the click
  // was stamped before the visit had an entry page and keeps '' (the processor's rule). Each visit lasts 120 s.
  const emailBatch = (offset: number, f: Parameters<typeof event>[3]) => ['e1', 'e2', 'e3'].map((v) => a(day + offset, { anon_id: v, session_id: `s-${v}`, channel: 'Email', utm_source: 'newsletter', ...f }))
  await insertEvents(wh.client, emailBatch(0, { type: 'click', name: 'open', url_path: '/mail' }))
  await insertEvents(wh.client, [...emailBatch(60_000, { url_path: '/late' }), ...emailBatch(120_000, { type: 'custom', name: 'signup', url_path: '/late' })])
}, 60_000)
afterAll(async () => wh?.close())

const RANGE = 'site=web&from=2026-11-01&to=2026-11-08'
const get = async (k: number, path: string) => {
  const { get } = statsAppOn(wh.client, { k, now: NOW, goals: [{ name: 'Signup', event: 'signup' }, { name: 'Saw f', page: '/f' }] })
  const res = await get(path)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body
}
const agg = async (k: number, filters: string) => AggregateResponse.parse(await get(k, `/aggregate?${RANGE}&filters=${encodeURIComponent(filters)}`))
const breakdown = async (k: number, query: string) => BreakdownResponse.parse(await get(k, `/breakdown?${RANGE}&${query}`))
const visitors = async (k: number, filters: string) => (await agg(k, filters)).metrics.visitors?.value

describe('stamped visit values', () => {
  it('break down by the stamped channel event by event: visits are distinct sessions, events without a session have no row', async () => {
    const body = await breakdown(3, 'dimension=channel')
    expect(body.rows).toEqual([
      { value: 'Organic Search', visitors: 4, events: 4, visits: 4 },
      { value: 'Email', visitors: 3, events: 9, visits: 3 },
      { value: 'Direct', visitors: 3, events: 6, visits: 3 },
    ])
    // Referral's k−1 visitors are not named and not enough for other.
    expect(body.other).toBeNull()
    const lower = await breakdown(2, 'dimension=channel&goal=Signup')
    expect(lower.rows.find((r) => r.value === 'Email')).toEqual({ value: 'Email', visitors: 3, events: 9, visits: 3, conversions: 3, conversion_rate: 1 })
    expect(lower.rows.find((r) => r.value === 'Referral')).toEqual({ value: 'Referral', visitors: 2, events: 2, visits: 2, conversions: 0, conversion_rate: 0 })
  })

  it('read the entry page as stamped: events written before the visit’s first pageview hold none', async () => {
    const body = await breakdown(3, 'dimension=entry_page')
    expect(body.rows).toEqual([
      { value: '/g', visitors: 4, events: 4, visits: 4 },
      { value: '/', visitors: 3, events: 6, visits: 3 },
      { value: '/late', visitors: 3, events: 6, visits: 3 },
      { value: '', visitors: 3, events: 3, visits: 3 },
    ])
    // The kept events are the stamped ones; the visits are measured whole (the click 60 s before the pageview included).
    const late = await agg(3, 'entry_page==/late')
    expect(late.metrics.events?.value).toBe(6)
    expect(late.metrics.visits?.value).toBe(3)
    expect(late.metrics.visit_duration_mean?.value).toBe(120)
    expect(late.metrics.bounce_rate?.value).toBe(0)
    const email = await agg(3, 'channel==Email')
    expect([email.metrics.events?.value, email.metrics.visit_duration_mean?.value]).toEqual([9, 120])
  })

  it('keep no event without a session, under == and != alike', async () => {
    expect(await visitors(3, 'channel==Direct')).toBe(3)
    const direct = await agg(3, 'channel==Direct')
    expect(direct.metrics.events?.value).toBe(6)
    // != Referral keeps d, g and e (10 visitors), not n1–n3; k = 2 so Referral's 2 removed visitors do not hide it.
    expect(await visitors(2, 'channel!=Referral')).toBe(10)
    const series = TimeseriesResponse.parse(await get(2, `/timeseries?${RANGE}&interval=day&filters=${encodeURIComponent('channel!=Referral')}`))
    expect(series.buckets.find((b) => b.t === '2026-11-02')).toMatchObject({ visitors: 10, events: 19, sessions: 10 })
    expect((await breakdown(2, `dimension=name&filters=${encodeURIComponent('channel!=Referral')}`)).rows.map((r) => r.value)).not.toContain('ping')
  })

  it('guard a list value under k (G2) and the small values a contains matches (G3) on their event-level forms', async () => {
    expect(await visitors(3, 'channel==Direct|Organic Search')).toBe(7)
    // Referral's two visitors are what the list differs by from channel==Direct.
    expect((await agg(3, 'channel==Direct|Referral')).hidden).toBe(true)
    // =~ch matches Organic Search alone (4); =~r matches Referral's 2 among Direct's and Organic Search's.
    expect(await visitors(3, 'channel=~ch')).toBe(4)
    expect((await agg(3, 'channel=~r')).hidden).toBe(true)
    expect((await breakdown(3, `dimension=url_path&filters=${encodeURIComponent('channel=~r')}`)).rows).toEqual([])
    // G1: channel!=Direct drops d1–d3 and the sessionless n1–n3 (6); with browser==Chrome alike.
    expect(await visitors(3, 'channel!=Direct;browser==Chrome')).toBe(9)
    // G1 counts the events without a session a != drops: channel!=Nothing drops n1–n3 alone, k at k=3, k−1 at k=4.
    expect(await visitors(3, 'channel!=Nothing')).toBe(12)
    expect((await agg(4, 'channel!=Nothing')).hidden).toBe(true)
    expect(await visitors(4, 'channel!=Nothing;browser==Chrome')).toBeNull()
    // Two positive clauses: the guard reads only rows passing one of them, with the same rules.
    expect(await visitors(3, 'channel==Direct|Organic Search;browser==Chrome')).toBe(7)
    expect((await agg(3, 'channel==Direct|Referral;browser==Chrome')).hidden).toBe(true)
    expect(await visitors(3, 'channel!=Nothing;browser==Chrome;country==DE')).toBe(12)
    expect((await agg(4, 'channel!=Nothing;browser==Chrome;country==DE')).hidden).toBe(true)
    // The guard read event by event (series, breakdowns) reads only rows passing some positive clause then: same rules.
    const series = async (k: number, filters: string) =>
      TimeseriesResponse.parse(await get(k, `/timeseries?${RANGE}&interval=day&filters=${encodeURIComponent(filters)}`)).buckets.map((b) => b.visitors)
    expect(await series(3, 'channel==Direct|Organic Search;browser==Chrome')).toEqual([7])
    expect(await series(3, 'channel==Direct|Referral;browser==Chrome')).toEqual([null])
    expect(await series(3, 'channel!=Nothing;browser==Chrome;country==DE')).toEqual([12])
    expect(await series(4, 'channel!=Nothing;browser==Chrome;country==DE')).toEqual([null])
  })

  it('hide an answer that isolates one visitor whatever the path', async () => {
    await insertEvents(wh.client, [event('org-a', 'web', T('2026-11-05T10:00:00'), { anon_id: 'lone', session_id: 's-lone', url_path: '/x', channel: 'Paid Social', utm_source: 'solo' })])
    for (const f of ['channel==Paid Social', 'utm_source==solo', 'entry_page==/x', 'utm_source==solo;browser==Chrome']) {
      expect((await agg(1, f)).metrics.visitors?.value, f).toBe(1)
      expect((await agg(3, f)).hidden, f).toBe(true)
      expect((await breakdown(3, `dimension=url_path&filters=${encodeURIComponent(f)}`)).rows, f).toEqual([])
    }
  })
})

describe('the guard’s row cut', () => {
  it('still sees what one clause alone drops, whether two positive clauses or one', async () => {
    // Nov 6 alone: f1–f2 Affiliates from FR (k−1 at k = 3), f3–f5 Affiliates from DE, o1–o3 Direct from DE.
    const at = T('2026-11-06T10:00:00')
    const visit = (v: string, f: Parameters<typeof event>[3]) => event('org-a', 'web', at, { anon_id: v, session_id: `s-${v}`, url_path: '/f', ...f })
    await insertEvents(wh.client, [
      ...['f1', 'f2'].map((v) => visit(v, { channel: 'Affiliates', country: 'FR' })),
      ...['f3', 'f4', 'f5'].map((v) => visit(v, { channel: 'Affiliates', country: 'DE' })),
      ...['o1', 'o2', 'o3'].map((v) => visit(v, { channel: 'Direct', country: 'DE' })),
    ])
    const day = async (k: number, filters: string) => {
      const body = TimeseriesResponse.parse(await get(k, `/timeseries?site=web&from=2026-11-06&to=2026-11-07&interval=day&filters=${encodeURIComponent(filters)}`))
      return body.buckets.map((b) => b.visitors)
    }
    expect(await day(3, 'channel==Affiliates;browser==Chrome')).toEqual([5])
    // country==DE drops f1–f2 under channel==Affiliates: a query without it differs by them.
    expect(await day(3, 'channel==Affiliates;country==DE')).toEqual([null])
    // channel==Affiliates alone drops o1–o3: k at k = 3, k−1 at k = 4.
    expect(await day(3, 'channel==Affiliates')).toEqual([5])
    expect(await day(4, 'channel==Affiliates')).toEqual([null])
    // A goal breakdown: the same verdicts.
    const goals = async (k: number, filters: string) =>
      BreakdownResponse.parse(await get(k, `/breakdown?site=web&from=2026-11-06&to=2026-11-07&dimension=goal&filters=${encodeURIComponent(filters)}`)).rows
    expect(await goals(3, 'channel==Affiliates;browser==Chrome')).toEqual([{ value: 'Saw f', visitors: 5, events: 5 }])
    expect(await goals(3, 'channel==Affiliates;country==DE')).toEqual([])
    expect(await goals(3, 'channel==Affiliates')).toEqual([{ value: 'Saw f', visitors: 5, events: 5 }])
    expect(await goals(4, 'channel==Affiliates')).toEqual([])
    expect(await goals(3, 'channel!=Direct;country==DE|FR')).toEqual([])
  })
})

describe('stamped visit values in SQL', () => {
  const scope = { org: 'org-a', site: 'web', range: { from: '2026-11-01', to: '2026-11-08', tz: 'UTC', days: 7 } }
  const f = (clauses: Parameters<typeof compileFilters>[0]) => compileFilters(clauses, { goals: [] })
  const stamped = f([
    { dimension: 'entry_page', op: 'is', values: ['/'] },
    { dimension: 'channel', op: 'is_not', values: ['Direct', 'Email'] },
    { dimension: 'browser', op: 'is', values: ['Chrome'] },
  ])

  it('are column tests, with no grouping by visit, for the rows, the guard and the series', () => {
    const r = rowForm(stamped)
    for (const sql of [r.where, r.prewhere, r.kept, ...r.removed.map((x) => x.sql), complementQuery(scope, stamped, 3)?.query ?? '', timeseriesQuery(scope, 'events', 'day', undefined, stamped).query]) {
      expect(sql).not.toContain('GROUP BY session_id')
      expect(sql).not.toContain('session_id IN')
      expect(sql).not.toContain('argMin')
    }
    expect(r.where).toContain("entry_page IN {f0:Array(String)} AND session_id != ''")
    expect(r.kept).toContain("session_id != '' AND NOT")
  })

  it('cut the aggregate by a stamped source directly, by a subquery for the entry page, and keep exit_page per visit', () => {
    const source = aggregateQuery(scope, { filters: f([{ dimension: 'utm_source', op: 'is', values: ['google'] }]) }, { maxExecutionSeconds: 5, maxResultRows: 10 }).query
    expect(source).not.toContain('session_id IN')
    expect(source).toContain("PREWHERE (utm_source IN {f0:Array(String)} AND session_id != '')")
    expect(aggregateQuery(scope, { filters: f([{ dimension: 'entry_page', op: 'is', values: ['/'] }]) }, { maxExecutionSeconds: 5, maxResultRows: 10 }).query).toContain('session_id IN (SELECT session_id')
    const exit = f([{ dimension: 'exit_page', op: 'is', values: ['/'] }])
    expect(exit.hasVisit).toBe(true)
    expect(complementQuery(scope, exit, 3)?.query).toContain("argMaxIf(url_path, ts, type = 'pageview')")
  })
})
