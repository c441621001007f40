import { AggregateResponse } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareMetric, previousPeriod } from './aggregate.js'
import { type ChdbWarehouse, event, insertEvents, openTestWarehouse, statsAppOn } from './test-fixtures.js'

/** /aggregate on the real engine: every metric against numbers worked out by hand from the events below. */

const NOW = Date.parse('2026-11-20T12:00:00Z')
const T = (iso: string) => Date.parse(`${iso}Z`)
let wh: ChdbWarehouse

beforeAll(async () => {
  wh = await openTestWarehouse()
  const a = (at: string, f: Parameters<typeof event>[3]) => event('org-a', 'web', T(at), f)
  await insertEvents(wh.client, [
    // v1: a 120 s visit from Google with a signup; v2 bounces on /pricing; v3 30 s from Google; v4 (FR) bounces; v5 (FR) only clicks.
    a('2026-11-02T10:00:00', { anon_id: 'v1', session_id: 's1', url_path: '/', utm_source: 'google', channel: 'Organic Search' }),
    a('2026-11-02T10:01:00', { anon_id: 'v1', session_id: 's1', url_path: '/pricing', channel: 'Internal' }),
    a('2026-11-02T10:02:00', { anon_id: 'v1', session_id: 's1', type: 'custom', name: 'signup', url_path: '/pricing', props: { plan: 'pro' } }),
    a('2026-11-02T11:00:00', { anon_id: 'v2', session_id: 's2', url_path: '/pricing' }),
    a('2026-11-03T12:00:00', { anon_id: 'v3', session_id: 's3', url_path: '/', utm_source: 'google', channel: 'Organic Search' }),
    a('2026-11-03T12:00:30', { anon_id: 'v3', session_id: 's3', url_path: '/about' }),
    a('2026-11-04T13:00:00', { anon_id: 'v4', session_id: 's4', url_path: '/', country: 'FR' }),
    a('2026-11-04T14:00:00', { anon_id: 'v5', session_id: 's5', type: 'click', name: 'cta', country: 'FR' }),
    // A bot, and the previous week: one visitor.
    a('2026-11-04T15:00:00', { anon_id: 'bot', session_id: 'sb', is_bot: true }),
    a('2026-10-30T09:00:00', { anon_id: 'v1', session_id: 's0' }),
    // Org B has a site with the same id and must never be counted.
    ...Array.from({ length: 6 }, (_, i) => event('org-b', 'web', T('2026-11-02T10:00:00'), { anon_id: `b${i}`, session_id: `bs${i}`, country: 'FR' })),
  ])
}, 60_000)
afterAll(async () => wh?.close())

const RANGE = 'site=web&from=2026-11-01&to=2026-11-08'
const agg = async (k: number, query: string) => {
  const { get } = statsAppOn(wh.client, { k, now: NOW, goals: [{ name: 'Signup', event: 'signup' }, { name: 'Pricing', page: '/pricing*' }] })
  const res = await get(`/aggregate?${RANGE}&${query}`)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return AggregateResponse.parse(res.body)
}
const values = (body: AggregateResponse) => Object.fromEntries(Object.entries(body.metrics).map(([k, m]) => [k, m?.value]))

describe('GET /aggregate on chDB', () => {
  it('counts every metric of the range exactly, bots and the other org apart', async () => {
    const body = await agg(3, '')
    expect(body).toMatchObject({ org_id: 'org-a', site: 'web', source: 'events', filters: null, goal: null, compare: null, hidden: false })
    expect(values(body)).toEqual({
      visitors: 5,
      visits: 5,
      pageviews: 6,
      events: 8,
      views_per_visit: 6 / 5,
      bounce_rate: 2 / 4,
      visit_duration_median: 0,
      visit_duration_mean: 30,
    })
  })

  it('compares with the previous period, which is hidden under k', async () => {
    const body = await agg(3, 'compare=previous_period')
    expect(body.compare).toEqual({ from: '2026-10-25', to: '2026-11-01' })
    expect(body.metrics.visitors).toEqual({ value: 5, previous: null, change: null })
    const shown = await agg(1, 'compare=previous_period')
    expect(shown.metrics.visitors).toEqual({ value: 5, previous: 1, change: 4 })
    expect(shown.metrics.bounce_rate).toEqual({ value: 0.5, previous: 1, change: -0.5 })
  })

  it('filters event-level: country==DE keeps three visitors, each visit measured whole', async () => {
    // At k=2: the two French visitors it leaves out are k, so the answer cannot be differenced against the unfiltered one.
    const body = await agg(2, 'filters=country%3D%3DDE')
    expect(body.filters).toBe('country==DE')
    expect(values(body)).toMatchObject({ visitors: 3, visits: 3, pageviews: 5, events: 6, bounce_rate: 1 / 3, visit_duration_median: 30, visit_duration_mean: 50 })
  })

  it('hides a != whose complement is k−1 visitors and shows it at k', async () => {
    // country!=FR removes v4 and v5: two visitors. At k=3 that is k−1: hidden; at k=2 it is k: shown.
    const hidden = await agg(3, 'filters=country!%3DFR')
    expect(hidden.hidden).toBe(true)
    expect(Object.values(values(hidden)).every((v) => v === null)).toBe(true)
    const shown = await agg(2, 'filters=country!%3DFR')
    expect(shown.hidden).toBe(false)
    expect(values(shown)).toMatchObject({ visitors: 3, events: 6 })
  })

  it('hides a !~ whose complement is one visitor although the rest is large', async () => {
    // url_path!~about removes v3's /about pageview only: v3 stays a visitor, but the removed event is v3's alone.
    const body = await agg(2, 'filters=url_path!~ABOUT')
    expect(body.hidden).toBe(true)
  })

  it('filters visit-level by the first event’s utm_source, at exactly k−1 and k', async () => {
    expect((await agg(3, 'filters=utm_source%3D%3Dgoogle')).hidden).toBe(true)
    const body = await agg(2, 'filters=utm_source%3D%3Dgoogle')
    // s1 and s3 whole: their later events carry no utm_source but belong to a Google visit.
    expect(values(body)).toMatchObject({ visitors: 2, visits: 2, pageviews: 4, events: 5, bounce_rate: 0 })
  })

  it('filters visit-level with != : the other visits, whole, and hidden when they differ by k−1', async () => {
    // utm_source!=google removes the two Google visits (v1, v3): k−1 at k=3, k at k=2.
    expect((await agg(3, 'filters=utm_source!%3Dgoogle')).hidden).toBe(true)
    expect(values(await agg(2, 'filters=utm_source!%3Dgoogle'))).toMatchObject({ visitors: 3, visits: 3, pageviews: 2, events: 3, bounce_rate: 1 })
  })

  it('hides an answer a positive filter would difference against another: a list of all but one value, one value too many', async () => {
    // At k=3, country==DE leaves out v4 and v5 (k−1): without the filter the answer differs by them.
    expect((await agg(3, 'filters=country%3D%3DDE')).hidden).toBe(true)
    // country==DE|FR: the FR alternative alone is v4 and v5: k at k=2, k−1 at k=3.
    expect((await agg(2, 'filters=country%3D%3DDE|FR')).hidden).toBe(false)
    expect((await agg(3, 'filters=country%3D%3DDE|FR')).hidden).toBe(true)
    // url_path=~/ matches /about, v3's alone: a list of the other paths would differ by v3. =~pricing matches two visitors' page only.
    expect((await agg(2, 'filters=url_path%3D~/')).hidden).toBe(true)
    expect(values(await agg(2, 'filters=url_path%3D~pricing'))).toMatchObject({ visitors: 2, pageviews: 2, events: 3 })
  })

  it('never shows a filter isolating one visitor', async () => {
    for (const f of ['url_path%3D%3D/about', 'entry_page%3D%3D/pricing', 'exit_page%3D%3D/about', 'props.plan%3D%3Dpro', 'name%3D%3Dcta']) {
      const body = await agg(2, `filters=${f}`)
      expect(body.hidden, f).toBe(true)
      expect(body.metrics.visitors.value, f).toBeNull()
    }
  })

  it('reports conversions for a goal, null under k and a rate over visitors', async () => {
    const one = await agg(2, 'goal=Signup')
    expect(one.metrics.conversions?.value).toBeNull()
    expect(one.metrics.conversion_rate?.value).toBeNull()
    const two = await agg(2, 'goal=Pricing')
    expect(two.goal).toBe('Pricing')
    expect(two.metrics.conversions?.value).toBe(2)
    expect(two.metrics.conversion_rate?.value).toBe(2 / 5)
    expect((await agg(2, 'goal=page:/pric*')).metrics.conversions?.value).toBe(2)
    expect((await agg(2, 'goal=page:/*')).metrics.conversions?.value).toBe(4)
    expect((await agg(2, 'goal=event:nothing')).metrics.conversions?.value).toBe(0)
  })

  it('answers a bad filter or goal with a 400 naming it', async () => {
    const { get } = statsAppOn(wh.client, { k: 2, now: NOW })
    const bad = await get(`/aggregate?${RANGE}&filters=colour%3D%3Dred`)
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_filter', param: 'filters' } })
    expect(String(bad.body.message)).toContain('colour==red')
    expect(await get(`/aggregate?${RANGE}&goal=Nope`)).toMatchObject({ status: 400, body: { error: 'invalid_request', param: 'goal' } })
    expect(await get(`/aggregate?${RANGE}&filters=goal%3D%3DNope`)).toMatchObject({ status: 400, body: { error: 'invalid_filter', param: 'filters' } })
  })

  it('reads org B’s own site of the same id only', async () => {
    const { get, keys } = statsAppOn(wh.client, { k: 2, now: NOW })
    const body = AggregateResponse.parse((await get(`/aggregate?${RANGE}`, keys.b.key)).body)
    expect(values(body)).toMatchObject({ visitors: 6, visits: 6, pageviews: 6, events: 6 })
  })
})

describe('aggregate helpers', () => {
  it('takes the same length before from', () => {
    expect(previousPeriod({ from: '2026-11-01', to: '2026-11-08' })).toEqual({ from: '2026-10-25', to: '2026-11-01' })
    expect(previousPeriod({ from: '2026-11-01T06:00', to: '2026-11-01T18:00' })).toEqual({ from: '2026-10-31T18:00', to: '2026-11-01T06:00' })
  })
  it('changes counts by ratio and rates by points, never against 0 or a hidden value', () => {
    expect(compareMetric('visitors', 12, 10)).toEqual({ value: 12, previous: 10, change: 0.2 })
    expect(compareMetric('visitors', 12, 0)).toEqual({ value: 12, previous: 0, change: null })
    expect(compareMetric('bounce_rate', 0.5, 0.25)).toEqual({ value: 0.5, previous: 0.25, change: 0.25 })
    expect(compareMetric('visits', null, 3)).toEqual({ value: null, previous: 3, change: null })
    expect(compareMetric('visits', 3, undefined)).toEqual({ value: 3 })
  })
})
