import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AdoptionResponse,
  BreakdownResponse,
  CohortsResponse,
  ConsentResponse,
  FunnelResponse,
  SitesResponse,
  TimeseriesResponse,
  type WireEvent,
} from '@atspark/schemas'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { batch, CHROME_WINDOWS_UA, event, IPHONE_UA, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { seededRandom, suiteSeed } from './support/seeded-random.js'
import * as reference from './support/stats-reference.js'

// Two orgs that look alike to everything but the org filter: the same site ids (web, app), the same anon
// ids, session ids and raw user ids, on the same days. Every stats endpoint, from the rollups and from raw
// events, must answer each org exactly what its own events give (the oracle in stats-reference.ts) — and for
// every question the fixture checks that both orgs' events together would give a different answer, so a
// query that lost its org filter cannot pass. Counts sit at exactly k−1 (hidden) and k (shown).
//
// Random choices (minutes within the hour, the order events are sent in) come from one seed, printed on
// failure; ATSPARK_TEST_SEED=<n> replays it.

const SEED = suiteSeed()
const rnd = seededRandom(SEED)
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { a: newKey(), b: newKey() }

type Org = 'a' | 'b'
type Site = 'web' | 'app'
const ORG_ID: Record<Org, string> = { a: 'org-a', b: 'org-b' }
const ORIGIN: Record<Org, string> = { a: 'http://a.localhost:3996', b: 'http://b.localhost:3996' }
const WRITE: Record<Org, Record<Site, string>> = { a: { web: 'pk_twin_a_web', app: 'pk_twin_a_app' }, b: { web: 'pk_twin_b_web', app: 'pk_twin_b_app' } }
// What each org's requests look like, and what enrichment makes of them: every derived dimension tells the orgs apart.
const CLIENT: Record<Org, { ua: string; ip: string; referrer: string; device: reference.Device }> = {
  a: { ua: CHROME_WINDOWS_UA, ip: '81.2.69.142', referrer: 'https://www.google.com/search?q=atspark', device: { browser: 'Chrome', os: 'Windows', device_type: 'desktop', country: 'GB' } },
  b: { ua: IPHONE_UA, ip: '8.8.8.8', referrer: 'https://duckduckgo.com/?q=atspark', device: { browser: 'Mobile Safari', os: 'iOS', device_type: 'mobile', country: 'US' } },
}

// The same site ids in both orgs, with different origins and consent modes so /sites can tell them apart.
const tenants = {
  orgs: (['a', 'b'] as const).map((org) => ({
    id: ORG_ID[org],
    name: org.toUpperCase(),
    api_keys: [{ id: `${org}-analyst`, hash: sha256(KEYS[org]), role: 'analyst' }],
    sites: [
      { id: 'web', write_key: WRITE[org].web, allowed_origins: [ORIGIN[org]], consent_mode: org === 'a' ? 'opt-out' : 'opt-in' },
      { id: 'app', write_key: WRITE[org].app, allowed_origins: [ORIGIN[org]], consent_mode: org === 'a' ? 'opt-in' : 'opt-out' },
    ],
  })),
}

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const today = Math.floor(Date.now() / DAY) * DAY
const [D1, D2, D3] = [today - 3 * DAY, today - 2 * DAY, today - DAY]
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
/** A minute offset within the first 20 minutes of an hour: buckets and step order never depend on it. */
const jitter = () => rnd.int(20 * MIN)

// One shared pool of visitors: visitor i is anon_v<i> in both orgs, with the same session ids (one per day) and user id.
const visit = (i: number, tag: string) => ({ a: `anon_v${i}`, s: `sess_v${i}_${tag}` })
const pv = (org: Org, i: number, path: string, ts: number, tag: string): WireEvent =>
  event({ ...visit(i, tag), u: `https://app.example.com${path}`, r: CLIENT[org].referrer, ts })
const named = (org: Org, i: number, t: WireEvent['t'], name: string, ts: number, tag: string): WireEvent =>
  event({ ...visit(i, tag), t, n: name, u: 'https://app.example.com/home', r: CLIENT[org].referrer, ts })

/** A visitor's D1 morning on web: /home, then optional clicks a minute or two later, /pricing at 11:xx and /docs at 11:3x–11:5x. */
function webDay1(org: Org, plan: { home: number[]; pricing: number[]; docs: number[]; clicks: [string, number[]][] }): WireEvent[] {
  const out: WireEvent[] = []
  const home = new Map<number, number>()
  for (const i of plan.home) {
    const ts = D1 + 10 * HOUR + jitter()
    home.set(i, ts)
    out.push(pv(org, i, '/home', ts, 'd1'))
  }
  plan.clicks.forEach(([name, visitors], n) => {
    for (const i of visitors) out.push(named(org, i, 'click', name, (home.get(i) ?? D1 + 10 * HOUR) + (n + 1) * MIN, 'd1'))
  })
  for (const i of plan.pricing) out.push(pv(org, i, '/pricing', D1 + 11 * HOUR + jitter(), 'd1'))
  for (const i of plan.docs) out.push(pv(org, i, '/docs', D1 + 11 * HOUR + 30 * MIN + jitter(), 'd1'))
  return out
}

const homes = (org: Org, visitors: number[], base: number, tag: string) => visitors.map((i) => pv(org, i, '/home', base + 10 * HOUR + jitter(), tag))

// Web, org A. D1: /home 12 visitors, /pricing 5 (k: shown), /docs 4 (k−1: hidden); clicks cta 5, tiny 4.
// D2: 4 visitors (a hidden day). D3: 5 visitors (shown), but one only sent a custom event: the bounce rate rests on 4 (hidden).
const webA: WireEvent[] = [
  ...webDay1('a', { home: range(0, 12), pricing: range(0, 5), docs: range(0, 4), clicks: [['cta', range(0, 5)], ['tiny', range(0, 4)]] }),
  ...homes('a', range(0, 4), D2, 'd2'),
  ...homes('a', range(0, 4), D3, 'd3'),
  named('a', 4, 'custom', 'late', D3 + 10 * HOUR + jitter(), 'd3'),
]
// Web, org B, the same visitors in other proportions. D1: /home 8, /pricing 4, /docs 5; D2: 5 single-pageview visits; D3: 4.
const webB: WireEvent[] = [
  ...webDay1('b', { home: range(0, 8), pricing: range(5, 9), docs: range(4, 9), clicks: [['cta', range(0, 5)], ['tiny', [4]]] }),
  ...homes('b', range(4, 9), D2, 'd2'),
  ...homes('b', range(0, 4), D3, 'd3'),
]

// App: signed-in feature use. Visitor i is user u<i>@twin.example in both orgs (pseudonymized per org).
const W = [0, 1, 2, 3].map((i) => {
  const start = today - 21 * DAY
  return start - ((new Date(start).getUTCDay() + 6) % 7) * DAY + i * 7 * DAY
})
const use = (feature: string, user: number, anon: number, ts: number): WireEvent =>
  event({ t: 'feature', n: feature, a: `anon_v${anon}`, s: `sess_v${anon}_app`, uid: `u${user}@twin.example`, u: 'https://app.example.com/app', ts })
const uses = (feature: string, users: number[], ts: () => number, anonOf = (u: number) => u) => users.map((u) => use(feature, u, anonOf(u), ts()))
const morning = () => D1 + 9 * HOUR + jitter()
const week = (w: number) => () => (W[w] ?? 0) + MIN + rnd.int(MIN)

// Org A: export 5 accounts on 5 devices (shown); beta 4 and 4 (hidden); shared-device 5 accounts on 4 devices and
// multi-device 4 accounts on 5 devices (both hidden: the visitor check and the account check).
// Reports, first-use cohorts: u0–u5 start in W0 (5 back in W1: shown, 4 in W2: hidden); u10–u13 start in W1 (a cohort
// of 4: hidden); u20–u24 start in W2 (5) and all come back in W3.
const appA: WireEvent[] = [
  ...uses('export', range(0, 5), morning),
  ...uses('beta', range(0, 4), morning),
  ...uses('shared-device', range(0, 5), morning, (u) => (u === 4 ? 0 : u)),
  ...uses('multi-device', range(0, 4), morning),
  use('multi-device', 0, 4, morning()),
  ...uses('reports', range(0, 6), week(0)),
  ...uses('reports', range(0, 5), week(1)),
  ...uses('reports', range(0, 4), week(2)),
  ...uses('reports', range(10, 14), week(1)),
  ...uses('reports', range(20, 25), week(2)),
  ...uses('reports', range(20, 25), week(3)),
]
// Org B, the same users: export 4 (hidden), beta 1, shared-device 5 on 5 devices (shown), multi-device 1;
// reports u10–u14 start in W1 (5, shown) and come back in W2; u0–u3 start in W2 (hidden) and come back in W3.
const appB: WireEvent[] = [
  ...uses('export', range(5, 9), morning),
  ...uses('beta', [4], morning),
  ...uses('shared-device', range(0, 5), morning),
  ...uses('multi-device', [4], morning),
  ...uses('reports', range(10, 15), week(1)),
  ...uses('reports', range(10, 15), week(2)),
  ...uses('reports', range(0, 4), week(2)),
  ...uses('reports', range(0, 4), week(3)),
]

const SENT: Record<Org, Record<Site, WireEvent[]>> = { a: { web: webA, app: appA }, b: { web: webB, app: appB } }

/** What the oracle sees of an org's site; users carry their org, as pseudonyms differ per org. */
const seen = (org: Org, site: Site): reference.SentEvent[] =>
  reference.sentEvents(SENT[org][site], false, CLIENT[org].device).map((e) => ({ ...e, user: e.user === '' ? '' : `${ORG_ID[org]}/${e.user}` }))
/** Both orgs' events of a site together: what a query without its org filter reads. */
const both = (site: Site) => [...seen('a', site), ...seen('b', site)]

// Consent receipts on web: org A 5 banner grants (k: shown), 4 banner refusals (k−1: hidden, and the gpc 6 with it
// so the total cannot give them away); org B 4 banner grants (hidden, total too) and 5 gpc refusals (shown).
const RECEIPTS: Record<Org, [analytics: boolean, src: string, n: number][]> = {
  a: [
    [true, 'banner', 5],
    [false, 'banner', 4],
    [false, 'gpc', 6],
  ],
  b: [
    [true, 'banner', 4],
    [false, 'gpc', 5],
  ],
}

let pipeline: RunningPipeline

async function send(org: Org, site: Site, events: WireEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 50) {
    const part = events.slice(i, i + 50)
    const res = await post(pipeline.ingest, batch(part, { k: WRITE[org][site] }), {
      origin: ORIGIN[org],
      headers: { 'user-agent': CLIENT[org].ua, 'x-forwarded-for': CLIENT[org].ip },
    })
    expect(res.status, `${org}/${site} (seed ${SEED}): ${await res.clone().text()}`).toBe(202)
    expect(await res.json()).toMatchObject({ accepted: part.length })
  }
}

async function receipt(org: Org, analytics: boolean, src: string): Promise<void> {
  const res = await fetch(`${pipeline.ingest}/v1/consent`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: ORIGIN[org] },
    body: JSON.stringify({ v: 1, k: WRITE[org].web, id: randomUUID(), ts: Date.now() - 500, sa: Date.now(), a: analytics, p: false, src, r: '1' }),
  })
  expect(res.status).toBe(202)
}

async function ask<T>(schema: { parse(v: unknown): T }, org: Org, path: string): Promise<T> {
  const res = await fetch(`${pipeline.backoffice}/v1/stats/${path}`, { headers: { authorization: `Bearer ${KEYS[org]}` } })
  const text = await res.text()
  expect(res.status, `${org}: ${path} (seed ${SEED}): ${text}`).toBe(200)
  return schema.parse(JSON.parse(text))
}

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-twin-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(tenants))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: file, STATS_K_ANONYMITY: String(K) })
  try {
    // Interleaved, in an order the seed picks: nothing may depend on which org's rows landed first.
    const parts = (['a', 'b'] as const).flatMap((org) => (['web', 'app'] as const).flatMap((site) => chunks(rnd.shuffle(SENT[org][site]), 20).map((events) => ({ org, site, events }))))
    for (const { org, site, events } of rnd.shuffle(parts)) await send(org, site, events)
    const receipts = (['a', 'b'] as const).flatMap((org) => RECEIPTS[org].flatMap(([analytics, src, n]) => Array.from({ length: n }, () => ({ org, analytics, src }))))
    for (const r of rnd.shuffle(receipts)) await receipt(r.org, r.analytics, r.src)
  } catch (err) {
    console.error(`stats-isolation: sending failed with seed ${SEED} (ATSPARK_TEST_SEED=${SEED} replays it)`)
    throw err
  }
})

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => console.error(`stats-isolation: failed with seed ${SEED} (ATSPARK_TEST_SEED=${SEED} replays it)`))
})

afterAll(async () => {
  await pipeline?.stop()
})

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size))
}

const WEEK = { from: day(D1 - DAY), to: day(today + DAY) }
const MONTH = { from: day(today - 20 * DAY), to: day(today + DAY) }
const weekQ = `from=${WEEK.from}&to=${WEEK.to}`
const ORGS = ['a', 'b'] as const

/** Asks one question of both orgs, each with and without source=raw, and checks each answer against the oracle over its own events. */
async function expectEachOrgOwn<T, P>(
  schema: { parse(v: unknown): T & { source: string; org_id: string } },
  path: string,
  project: (answer: T) => P,
  oracle: (events: reference.SentEvent[]) => P,
  site: Site,
  sources: readonly string[] = ['', '&source=raw'],
): Promise<void> {
  // The fixture must tell right from wrong: both orgs' rows together answer differently.
  for (const org of ORGS) expect(oracle(seen(org, site)), `${org}: ${path} gives the same answer over both orgs' events`).not.toEqual(oracle(both(site)))
  for (const org of ORGS) {
    for (const source of sources) {
      const answer = await ask(schema, org, `${path}${source}`)
      expect(answer.org_id).toBe(ORG_ID[org])
      if (source === '&source=raw') expect(answer.source).toBe('events')
      expect(project(answer), `${org}: ${path}${source} (seed ${SEED})`).toEqual(oracle(seen(org, site)))
    }
  }
}

type Bucketed = { buckets: unknown[] }
const buckets = (b: Bucketed) => b.buckets

describe('two orgs with the same site ids, anon ids and user ids: each key sees exactly its own org', () => {
  it('sites: each org its own two sites with its own origins and consent modes', async () => {
    for (const org of ORGS) {
      expect(await ask(SitesResponse, org, 'sites')).toEqual({
        org_id: ORG_ID[org],
        sites: tenants.orgs[org === 'a' ? 0 : 1]?.sites.map((s) => ({ id: s.id, allowed_origins: s.allowed_origins, consent_mode: s.consent_mode })),
      })
    }
  })

  it('timeseries (hourly and daily rollups, raw events, every interval, bounce rates): exactly the key org’s events', async () => {
    const series = (site: Site, r: { from: string; to: string }, interval: reference.Interval, tz = 'UTC', bounce = true) => ({
      path: `timeseries?site=${site}&from=${r.from}&to=${r.to}&interval=${interval}&tz=${tz}${bounce ? '&bounce=true' : ''}`,
      oracle: (events: reference.SentEvent[]) => reference.timeseries(events, { ...r, interval, tz, bounce }, K),
    })
    const questions = [
      series('web', WEEK, 'day'),
      series('web', WEEK, 'hour'),
      series('web', WEEK, 'hour', 'Asia/Tokyo'),
      series('web', MONTH, 'day'),
      series('web', MONTH, 'week'),
      series('web', MONTH, 'month', 'UTC', false),
      series('app', MONTH, 'week', 'UTC', false),
    ]
    for (const q of questions) await expectEachOrgOwn(TimeseriesResponse, q.path, buckets, q.oracle, q.path.includes('site=app') ? 'app' : 'web')

    // The bounce rate is read by its own query: even with the counts right, the rates must come from the key org's sessions only.
    for (const [r, interval] of [
      [WEEK, 'day'],
      [WEEK, 'hour'],
      [MONTH, 'day'],
    ] as const) {
      for (const org of ORGS) {
        const own = reference.timeseries(seen(org, 'web'), { ...r, interval, bounce: true }, K)
        expect(own, `${org}: bounce over ${interval}`).not.toEqual(reference.timeseries(seen(org, 'web'), { ...r, interval, bounce: true, bounceFrom: both('web') }, K))
      }
    }

    // The edges, spelled out: org A's D2 has 4 visitors (k−1: hidden), D3 has 5 (k: shown) of whom 4 had a session with a
    // pageview (the bounce rate hidden); org B's D2 has exactly 5 single-pageview visits (shown, all bounced).
    const a = await ask(TimeseriesResponse, 'a', `timeseries?site=web&${weekQ}&bounce=true`)
    expect(a.buckets.find((b) => b.t === day(D2))).toEqual({ t: day(D2), hidden: true, visitors: null, pageviews: null, events: null, sessions: null, bounce_rate: null })
    expect(a.buckets.find((b) => b.t === day(D3))).toEqual({ t: day(D3), hidden: false, visitors: 5, pageviews: 4, events: 5, sessions: 5, bounce_rate: null })
    const b = await ask(TimeseriesResponse, 'b', `timeseries?site=web&${weekQ}&bounce=true`)
    expect(b.buckets.find((x) => x.t === day(D2))).toEqual({ t: day(D2), hidden: false, visitors: 5, pageviews: 5, events: 5, sessions: 5, bounce_rate: 1 })
    expect(b.buckets.find((x) => x.t === day(D3))).toMatchObject({ hidden: true })
  })

  it('breakdown, every dimension, rollups and raw: the key org’s values only, rows and "other" hidden at k−1 and shown at k', async () => {
    const dims: reference.Dimension[] = ['url_path', 'referrer_host', 'country', 'browser', 'os', 'device_type', 'name']
    const bd = (site: Site, r: { from: string; to: string }, q: { dimension: reference.Dimension; type?: string; limit?: number }) => ({
      site,
      path: `breakdown?site=${site}&from=${r.from}&to=${r.to}&dimension=${q.dimension}${q.type ? `&type=${q.type}` : ''}${q.limit ? `&limit=${q.limit}` : ''}`,
      oracle: (events: reference.SentEvent[]) => reference.breakdown(events, r, { ...q, limit: q.limit ?? 10 }, K),
    })
    const questions = [
      ...dims.map((dimension) => bd('web', WEEK, { dimension })),
      bd('web', WEEK, { dimension: 'url_path', type: 'pageview' }),
      bd('web', WEEK, { dimension: 'url_path', type: 'pageview', limit: 1 }),
      bd('web', WEEK, { dimension: 'name', type: 'click' }),
      bd('web', MONTH, { dimension: 'url_path', type: 'pageview' }),
      bd('web', MONTH, { dimension: 'browser' }),
      bd('app', WEEK, { dimension: 'name', type: 'feature' }),
    ]
    for (const q of questions) await expectEachOrgOwn(BreakdownResponse, q.path, (x) => ({ rows: x.rows, other: x.other }), q.oracle, q.site)

    // The edges, spelled out for org A: /pricing has exactly 5 visitors (shown), /docs 4 (neither named nor, alone, an "other");
    // with limit=1 "other" holds /pricing and /docs, 5 visitors (shown); clicks: cta 5 shown, tiny 4 and hidden as "other".
    const pages = await ask(BreakdownResponse, 'a', `breakdown?site=web&${weekQ}&dimension=url_path&type=pageview`)
    expect({ rows: pages.rows, other: pages.other }).toEqual({
      rows: [
        { value: '/home', visitors: 12, events: 20 },
        { value: '/pricing', visitors: 5, events: 5 },
      ],
      other: null,
    })
    const top1 = await ask(BreakdownResponse, 'a', `breakdown?site=web&${weekQ}&dimension=url_path&type=pageview&limit=1`)
    expect(top1.other).toEqual({ visitors: 5, events: 9 })
    const clicks = await ask(BreakdownResponse, 'a', `breakdown?site=web&${weekQ}&dimension=name&type=click&source=raw`)
    expect({ rows: clicks.rows, other: clicks.other }).toEqual({ rows: [{ value: 'cta', visitors: 5, events: 5 }], other: null })
    for (const dimension of ['browser', 'os', 'device_type', 'country', 'referrer_host'] as const) {
      const a = await ask(BreakdownResponse, 'a', `breakdown?site=web&${weekQ}&dimension=${dimension}`)
      const b = await ask(BreakdownResponse, 'b', `breakdown?site=web&${weekQ}&dimension=${dimension}`)
      const expected = (org: Org) => (dimension === 'referrer_host' ? new URL(CLIENT[org].referrer).hostname : CLIENT[org].device[dimension])
      expect(a.rows.map((r) => r.value)).toEqual([expected('a')])
      expect(b.rows.map((r) => r.value)).toEqual([expected('b')])
    }
  })

  it('adoption: accounts and visitors of the key org only; hidden at k−1 accounts, at k−1 visitors, shown at k of both', async () => {
    const adoption = (feature: string, r: { from: string; to: string }, interval: reference.Interval) => ({
      path: `adoption?site=app&from=${r.from}&to=${r.to}&feature=${feature}&interval=${interval}`,
      oracle: (events: reference.SentEvent[]) => reference.adoption(events, { ...r, interval }, feature, K),
    })
    const questions = [
      adoption('export', WEEK, 'day'),
      adoption('beta', WEEK, 'day'),
      adoption('shared-device', WEEK, 'day'),
      adoption('multi-device', WEEK, 'day'),
      adoption('export', MONTH, 'day'),
      adoption('reports', MONTH, 'week'),
    ]
    for (const q of questions) await expectEachOrgOwn(AdoptionResponse, q.path, buckets, q.oracle, 'app')

    const hidden = { t: day(D1), hidden: true, accounts: null, visitors: null, events: null }
    for (const source of ['', '&source=raw']) {
      const get = async (org: Org, feature: string) => (await ask(AdoptionResponse, org, `adoption?site=app&${weekQ}&feature=${feature}${source}`)).buckets
      expect(await get('a', 'export')).toEqual([{ t: day(D1), hidden: false, accounts: 5, visitors: 5, events: 5 }])
      // 4 accounts on 4 devices; 5 accounts on 4 devices (the visitor check); 4 accounts on 5 devices (the account check).
      expect(await get('a', 'beta')).toEqual([hidden])
      expect(await get('a', 'shared-device')).toEqual([hidden])
      expect(await get('a', 'multi-device')).toEqual([hidden])
      expect(await get('b', 'shared-device')).toEqual([{ t: day(D1), hidden: false, accounts: 5, visitors: 5, events: 5 }])
      expect(await get('b', 'export')).toEqual([hidden])
    }
  })

  it('first-use cohorts: the key org’s accounts only; cohorts and cells hidden at k−1, shown at k', async () => {
    const r = { from: day(W[0] ?? 0), to: day(today + DAY) }
    for (const interval of ['week', 'month'] as const) {
      await expectEachOrgOwn(
        CohortsResponse,
        `adoption/cohorts?site=app&feature=reports&from=${r.from}&to=${r.to}&interval=${interval}`,
        (x) => ({ periods: x.periods, cohorts: x.cohorts }),
        (events) => reference.cohorts(events, r, 'reports', interval, K),
        'app',
        [''],
      )
    }
    const a = await ask(CohortsResponse, 'a', `adoption/cohorts?site=app&feature=reports&from=${r.from}&to=${r.to}`)
    expect(a.cohorts.map((c) => [c.cohort, c.accounts, c.retained.slice(0, 3).map((cell) => cell.accounts)])).toEqual([
      [day(W[0] ?? 0), 6, [5, null, null]],
      [day(W[1] ?? 0), null, [null, null]],
      [day(W[2] ?? 0), 5, [5]],
    ])
    const b = await ask(CohortsResponse, 'b', `adoption/cohorts?site=app&feature=reports&from=${r.from}&to=${r.to}`)
    expect(b.cohorts.map((c) => [c.cohort, c.accounts, c.retained.slice(0, 2).map((cell) => cell.accounts)])).toEqual([
      [day(W[1] ?? 0), 5, [5, null]],
      [day(W[2] ?? 0), null, [null]],
    ])
  })

  it('funnel: the key org’s visitors only, although the other org has the same anon ids; a step at k shown, at k−1 hidden', async () => {
    const steps = [
      { type: 'pageview', value: '/home' },
      { type: 'pageview', value: '/pricing' },
      { type: 'pageview', value: '/docs' },
    ]
    const q = encodeURIComponent(steps.map((s) => `${s.type}:${s.value}`).join(','))
    // A day's window: /home at 10:xx, /pricing at 11:xx and /docs at 11:3x–11:5x all fall in it.
    await expectEachOrgOwn(
      FunnelResponse,
      `funnel?site=web&${weekQ}&window=86400&steps=${q}`,
      (x) => x.steps.map(({ visitors, conversion }) => ({ visitors, conversion })),
      (events) => reference.funnel(events, WEEK, steps, 86_400, K),
      'web',
      [''],
    )
    const a = await ask(FunnelResponse, 'a', `funnel?site=web&${weekQ}&window=86400&steps=${q}`)
    expect(a.steps.map((s) => s.visitors)).toEqual([12, 5, null])
  })

  it('consent: each org’s own receipts, cells hidden at k−1 and shown at k', async () => {
    const sources = (org: Org) =>
      Object.entries(
        RECEIPTS[org].reduce<Record<string, { grants: number; refusals: number }>>((acc, [analytics, src, n]) => {
          const row = acc[src] ?? { grants: 0, refusals: 0 }
          row[analytics ? 'grants' : 'refusals'] += n
          acc[src] = row
          return acc
        }, {}),
      )
    // Both orgs' receipts together would read otherwise (banner grants 9, gpc refusals 11).
    expect(sources('a')).not.toEqual(sources('b'))
    expect(await ask(ConsentResponse, 'a', 'consent?site=web')).toMatchObject({
      org_id: 'org-a',
      sources: [
        { source: 'banner', grants: 5, refusals: null },
        { source: 'gpc', grants: 0, refusals: null },
      ],
      grants: 5,
      refusals: 10,
      grant_rate: 5 / 15,
    })
    expect(await ask(ConsentResponse, 'b', 'consent?site=web')).toMatchObject({
      org_id: 'org-b',
      sources: [
        { source: 'banner', grants: null, refusals: 0 },
        { source: 'gpc', grants: 0, refusals: 5 },
      ],
      grants: null,
      refusals: 5,
      grant_rate: null,
    })
    for (const org of ORGS) expect((await ask(ConsentResponse, org, 'consent?site=app')).sources).toEqual([])
  })
})
