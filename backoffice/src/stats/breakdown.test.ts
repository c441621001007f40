import { BreakdownResponse } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChdbWarehouse, event, insertEvents, openTestWarehouse, statsAppOn } from './test-fixtures.js'

/** Raw breakdowns on the real engine: new dimensions, filters and goals, k at exactly k−1 and k. */

const NOW = Date.parse('2026-11-20T12:00:00Z')
const T = (iso: string) => Date.parse(`${iso}Z`)
let wh: ChdbWarehouse

beforeAll(async () => {
  wh = await openTestWarehouse()
  const rows = []
  // p1–p3 land on /a from Google and sign up (plan pro); p4–p5 land on /b, p6–p7 on /c, directly; p8–p10 on /d from a referral.
  // p7–p10 are in France: k of them (at k=3) outside /c, so a country filter alone leaves out k or more.
  const pages: Record<string, string> = { p1: '/a', p2: '/a', p3: '/a', p4: '/b', p5: '/b', p6: '/c', p7: '/c', p8: '/d', p9: '/d', p10: '/d' }
  for (const [i, [anon, path]] of Object.entries(pages).entries()) {
    const at = T('2026-11-02T10:00:00') + i * 3_600_000
    const google = path === '/a'
    const base = { anon_id: anon, session_id: `s-${anon}`, country: ['p7', 'p8', 'p9', 'p10'].includes(anon) ? 'FR' : 'DE' }
    const channel = google ? 'Organic Search' : path === '/d' ? 'Referral' : 'Direct'
    rows.push(event('org-a', 'web', at, { ...base, url_path: path, channel, utm_source: google ? 'google' : '' }))
    if (google) rows.push(event('org-a', 'web', at + 60_000, { ...base, type: 'custom', name: 'signup', url_path: '/a', channel: 'Internal', props: { plan: 'pro' } }))
  }
  // Org B: a site of the same id with five more visitors of /a.
  for (let i = 0; i < 5; i++) rows.push(event('org-b', 'web', T('2026-11-02T10:00:00'), { anon_id: `b${i}`, session_id: `bs${i}`, url_path: '/a' }))
  await insertEvents(wh.client, rows)
}, 60_000)
afterAll(async () => wh?.close())

const GOALS = [
  { name: 'Signup', event: 'signup' },
  { name: 'Landed on b', page: '/b' },
]
const breakdown = async (k: number, query: string, key?: 'b') => {
  const { get, keys } = statsAppOn(wh.client, { k, now: NOW, goals: GOALS })
  const res = await get(`/breakdown?site=web&from=2026-11-01&to=2026-11-08&${query}`, key ? keys.b.key : undefined)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return BreakdownResponse.parse(res.body)
}

describe('GET /breakdown from raw events', () => {
  it('names a value of exactly k visitors, merges one of k−1 into other', async () => {
    const body = await breakdown(3, 'dimension=url_path&filters=type%3D%3Dpageview|custom')
    expect(body).toMatchObject({ source: 'events', filters: 'type==pageview|custom', goal: null })
    expect(body.rows).toEqual([
      { value: '/a', visitors: 3, events: 6 },
      { value: '/d', visitors: 3, events: 3 },
    ])
    expect(body.other).toEqual({ visitors: 4, events: 4 })
    const lower = await breakdown(2, 'dimension=url_path&filters=type%3D%3Dpageview|custom')
    expect(lower.rows.map((r) => [r.value, r.visitors])).toEqual([
      ['/a', 3],
      ['/d', 3],
      ['/b', 2],
      ['/c', 2],
    ])
    expect(lower.other).toBeNull()
  })

  it('breaks down by a visit’s channel and entry page, with visits', async () => {
    expect((await breakdown(3, 'dimension=channel')).rows).toEqual([
      { value: 'Direct', visitors: 4, events: 4, visits: 4 },
      { value: 'Organic Search', visitors: 3, events: 6, visits: 3 },
      { value: 'Referral', visitors: 3, events: 3, visits: 3 },
    ])
    const entry = await breakdown(3, 'dimension=entry_page')
    expect(entry.rows).toEqual([
      { value: '/a', visitors: 3, events: 6, visits: 3 },
      { value: '/d', visitors: 3, events: 3, visits: 3 },
    ])
    expect(entry.other).toEqual({ visitors: 4, events: 4, visits: 4 })
  })

  it('keeps the events of visits matching a visit-level filter, broken down by an event-level dimension', async () => {
    const body = await breakdown(3, 'dimension=name&filters=utm_source%3D%3Dgoogle')
    // Each Google visit has a pageview (name '') and a signup: the later signup belongs to the visit, not to Internal.
    expect(body.rows).toEqual([
      { value: '', visitors: 3, events: 3 },
      { value: 'signup', visitors: 3, events: 3 },
    ])
  })

  it('breaks down by a custom prop and by event type', async () => {
    expect((await breakdown(3, 'dimension=props.plan&type=custom')).rows).toEqual([{ value: 'pro', visitors: 3, events: 3 }])
    expect((await breakdown(3, 'dimension=type')).rows).toEqual([
      { value: 'pageview', visitors: 10, events: 10 },
      { value: 'custom', visitors: 3, events: 3 },
    ])
  })

  it('lists goals as rows, a goal of k−1 converted visitors unnamed', async () => {
    expect((await breakdown(3, 'dimension=goal')).rows).toEqual([{ value: 'Signup', visitors: 3, events: 3 }])
    expect((await breakdown(2, 'dimension=goal')).rows).toEqual([
      { value: 'Signup', visitors: 3, events: 3 },
      { value: 'Landed on b', visitors: 2, events: 2 },
    ])
  })

  it('lists no goal rows for a site without goals (not an answer too large)', async () => {
    const { get } = statsAppOn(wh.client, { k: 3, now: NOW, goals: [] })
    const res = await get('/breakdown?site=web&from=2026-11-01&to=2026-11-08&dimension=goal')
    expect(res.status, JSON.stringify(res.body)).toBe(200)
    expect(BreakdownResponse.parse(res.body)).toMatchObject({ rows: [], other: null })
  })

  it('adds conversions and a rate per row for a goal', async () => {
    const body = await breakdown(3, 'dimension=channel&goal=Signup')
    expect(body.rows).toEqual([
      { value: 'Direct', visitors: 4, events: 4, visits: 4, conversions: 0, conversion_rate: 0 },
      { value: 'Organic Search', visitors: 3, events: 6, visits: 3, conversions: 3, conversion_rate: 1 },
      { value: 'Referral', visitors: 3, events: 3, visits: 3, conversions: 0, conversion_rate: 0 },
    ])
    // Two of four Direct visitors landed on /b: k−1 at k=3, so not shown.
    const b = await breakdown(3, 'dimension=channel&goal=Landed%20on%20b')
    expect(b.rows[0]).toMatchObject({ value: 'Direct', conversions: null, conversion_rate: null })
  })

  it('does not show an other that a != would tell one visitor from', async () => {
    // country!=FR leaves out four visitors in all (k or more), but from other (/b, /c) only p7: one visitor, k−1 or less.
    const body = await breakdown(3, 'dimension=url_path&filters=country!%3DFR')
    expect(body.rows).toEqual([{ value: '/a', visitors: 3, events: 6 }])
    expect(body.other).toBeNull()
  })

  it('does not name a row of k visitors from which a != removed one', async () => {
    // Direct keeps p4–p6 (k at k=3) under country!=FR, but the filter removed p7 from it: Direct with and without it would tell p7 apart.
    const body = await breakdown(3, 'dimension=channel&filters=country!%3DFR')
    expect(body.rows).toEqual([{ value: 'Organic Search', visitors: 3, events: 6, visits: 3 }])
    expect(body.other).toBeNull()
    expect((await breakdown(3, 'dimension=channel&filters=country%3D%3DDE')).rows.map((r) => r.value)).toEqual(['Organic Search', 'Direct'])
  })

  it('never shows a filter isolating one visitor', async () => {
    const lone = 'filters=country%3D%3DFR;url_path%3D%3D/c'
    for (const q of [`dimension=url_path&${lone}`, `dimension=channel&${lone}`, `dimension=goal&${lone}`]) {
      const body = await breakdown(2, q)
      expect(body.rows, q).toEqual([])
      expect(body.other, q).toBeNull()
    }
  })

  it('reads the key’s org only, though both orgs have a site web', async () => {
    expect((await breakdown(3, 'dimension=url_path&filters=type%3D%3Dpageview', 'b')).rows).toEqual([{ value: '/a', visitors: 5, events: 5 }])
    expect((await breakdown(3, 'dimension=url_path&filters=type%3D%3Dpageview')).rows).toEqual([
      { value: '/a', visitors: 3, events: 3 },
      { value: '/d', visitors: 3, events: 3 },
    ])
  })

  it('refuses filters on the rollup and a goal on dimension=goal', async () => {
    const { get } = statsAppOn(wh.client, { k: 3, now: NOW, goals: GOALS })
    expect(await get('/breakdown?site=web&dimension=url_path&filters=country%3D%3DDE&source=rollup')).toMatchObject({ status: 400, body: { error: 'invalid_request', param: 'source' } })
    expect(await get('/breakdown?site=web&dimension=goal&goal=Signup')).toMatchObject({ status: 400, body: { param: 'goal' } })
    expect(await get('/breakdown?site=web&dimension=props.bad%20key')).toMatchObject({ status: 400, body: { param: 'dimension' } })
  })
})
