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
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import * as reference from './support/stats-reference.js'

// The stats API end to end on the built embedded pipeline: known traffic for two orgs goes in
// through ingest, and every answer must equal it, be k-anonymous (k = 5) and stay inside the key's org.

const ORIGIN = 'http://localhost:3997'
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { aAnalyst: newKey(), aPrivacy: newKey(), bAnalyst: newKey(), bPrivacy: newKey() }
const WRITE = { a: 'pk_stats_a', aApp: 'pk_stats_a_app', aShop: 'pk_stats_a_shop', b: 'pk_stats_b' }
const SHOP_ORIGIN = 'http://shop.localhost:3997'
const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

const tenants = {
  orgs: [
    {
      id: 'org-a',
      name: 'A',
      api_keys: [
        { id: 'a-analyst', hash: sha256(KEYS.aAnalyst), role: 'analyst' },
        { id: 'a-privacy', hash: sha256(KEYS.aPrivacy), role: 'privacy' },
      ],
      sites: [
        { id: 'web', write_key: WRITE.a, allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
        { id: 'app', write_key: WRITE.aApp, allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
        { id: 'shop', write_key: WRITE.aShop, allowed_origins: [SHOP_ORIGIN, ORIGIN], consent_mode: 'opt-in' },
      ],
    },
    {
      id: 'org-b',
      name: 'B',
      api_keys: [
        { id: 'b-analyst', hash: sha256(KEYS.bAnalyst), role: 'analyst' },
        { id: 'b-privacy', hash: sha256(KEYS.bPrivacy), role: 'privacy' },
      ],
      sites: [{ id: 'bweb', write_key: WRITE.b, allowed_origins: [ORIGIN], consent_mode: 'opt-out' }],
    },
  ],
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const today = Math.floor(Date.now() / DAY) * DAY
const D1 = today - 3 * DAY
const D2 = today - 2 * DAY
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)

const pv = (visitor: string, path: string, ts: number): WireEvent =>
  event({ a: `anon_${visitor}`, s: `sess_${visitor}`, u: `https://app.example.com${path}`, ts })
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

// Org A, day 1: 20 visitors on /home, 12 on /pricing, 6 on /docs, 2 on /secret-page, 1 on /lonely; 10 click "cta".
const orgA1: WireEvent[] = [
  ...range(20).map((i) => pv(`a${i}`, '/home', D1 + 10 * HOUR)),
  ...range(12).map((i) => pv(`a${i}`, '/pricing', D1 + 11 * HOUR)),
  ...range(6).map((i) => pv(`a${i}`, '/docs', D1 + 12 * HOUR)),
  ...range(2).map((i) => pv(`a${i}`, '/secret-page', D1 + 12 * HOUR)),
  pv('a0', '/lonely', D1 + 13 * HOUR),
  ...range(10).map((i) => event({ a: `anon_a${i}`, s: `sess_a${i}`, t: 'click', n: 'cta', u: 'https://app.example.com/home', ts: D1 + 10 * HOUR + 60_000 })),
]
// Day 2: 3 visitors, under k: the bucket is hidden.
const orgA2 = range(3).map((i) => pv(`a${i}`, '/home', D2 + 10 * HOUR))
// Org B: 8 visitors, on a page org A never has.
const orgB = [...range(8).map((i) => pv(`b${i}`, '/home', D1 + 10 * HOUR)), ...range(8).map((i) => pv(`b${i}`, '/b-only', D1 + 10 * HOUR))]
// Org A's app: 6 signed-in accounts use "export-csv" (one twice), 2 use "beta" (under k).
const feature = (user: number, name: string, ts: number) =>
  event({ t: 'feature', n: name, a: `anon_u${user}`, s: `sess_u${user}`, uid: `user${user}@a.example`, u: 'https://app.example.com/app', ts })
const orgAApp = [...range(6).map((i) => feature(i, 'export-csv', D1 + 9 * HOUR)), feature(0, 'export-csv', D1 + 15 * HOUR), ...range(2).map((i) => feature(i, 'beta', D1 + 9 * HOUR))]

// Org A's shop, for funnels and bounces (D1 14:00 UTC): 12 visitors land, 9 of them then sign up,
// 6 are onboarded within half an hour and 3 more two hours later, 3 pay (under k). Two click
// "signup" before landing; two only see /rare (under k) and /landing. Five bots do every step.
const F = D1 + 14 * HOUR
const MIN = 60_000
const shopEvent = (visitor: string, t: WireEvent['t'], what: string, ts: number): WireEvent =>
  event({
    a: `anon_${visitor}`,
    s: `sess_${visitor}`,
    t,
    ts,
    u: `https://shop.example.com${t === 'pageview' ? what : '/landing'}`,
    ...(t === 'pageview' ? {} : { n: what }),
  })
const shopHumans: WireEvent[] = [
  ...range(12).map((i) => shopEvent(`f${i}`, 'pageview', '/landing', F + i * 1000)),
  ...range(9).map((i) => shopEvent(`f${i}`, 'click', 'signup', F + MIN)),
  ...[9, 10].map((i) => shopEvent(`f${i}`, 'click', 'signup', F - MIN)),
  ...range(6).map((i) => shopEvent(`f${i}`, 'feature', 'onboarded', F + 2 * MIN)),
  ...[6, 7, 8].map((i) => shopEvent(`f${i}`, 'feature', 'onboarded', F + 2 * HOUR)),
  ...range(3).map((i) => shopEvent(`f${i}`, 'custom', 'paid', F + 3 * MIN)),
  ...range(2).flatMap((i) => [shopEvent(`r${i}`, 'pageview', '/rare', F + 5 * MIN), shopEvent(`r${i}`, 'pageview', '/landing', F + 6 * MIN)]),
]
const shopBots: WireEvent[] = range(5).flatMap((i) => [
  shopEvent(`bot${i}`, 'pageview', '/landing', F),
  shopEvent(`bot${i}`, 'click', 'signup', F + MIN),
  shopEvent(`bot${i}`, 'feature', 'onboarded', F + 2 * MIN),
  shopEvent(`bot${i}`, 'custom', 'paid', F + 3 * MIN),
])

// Org A's app, first-use cohorts of "reports" over four Monday-based weeks W0..W3 (W3 is this week):
// c0–c7 start in W0 (c0–c5 back in W1, c0–c2 in W2, c0–c6 in W3); c8–c13 start in W1 (all back
// in W2, c8–c9 in W3); c14–c16 start in W2 (a cohort under k) and come back in W3.
const monday = (ms: number) => ms - ((new Date(ms).getUTCDay() + 6) % 7) * DAY
const W = [0, 1, 2, 3].map((i) => monday(today - 21 * DAY) + i * 7 * DAY)
const reportsUse = (user: number, week: number): WireEvent =>
  event({ t: 'feature', n: 'reports', a: `anon_c${user}`, s: `sess_c${user}_w${week}`, uid: `c${user}@a.example`, u: 'https://app.example.com/app', ts: (W[week] ?? 0) + MIN })
const cohortUses: [number[], number][] = [
  [range(8), 0],
  [range(6), 1],
  [range(3), 2],
  [range(7), 3],
  [range(6).map((i) => i + 8), 1],
  [range(6).map((i) => i + 8), 2],
  [[8, 9], 3],
  [[14, 15, 16], 2],
  [[14, 15, 16], 3],
]
const appReports = cohortUses.flatMap(([users, week]) => users.map((u) => reportsUse(u, week)))
// Another feature the same accounts use: never counted for "reports".
const appOther = range(7).map((i) => event({ t: 'feature', n: 'other', a: `anon_c${i + 20}`, s: `sess_c${i + 20}`, uid: `c${i + 20}@a.example`, u: 'https://app.example.com/app', ts: (W[1] ?? 0) + MIN }))

const NEVER_NAMED_FOR_A = ['/secret-page', '/lonely', '/b-only', '/rare', 'org-b', 'bweb']

let pipeline: RunningPipeline
/** Every org A answer body with the path that asked for it, checked at the end for names that must never appear. */
const answersA: { path: string; text: string }[] = []

/** What was sent, per site, for the reference answers. */
const sent = {
  web: () => reference.sentEvents([...orgA1, ...orgA2]),
  app: () => reference.sentEvents([...orgAApp, ...appReports, ...appOther]),
  shop: () => [...reference.sentEvents(shopHumans), ...reference.sentEvents(shopBots, true)],
  bweb: () => reference.sentEvents(orgB),
}

async function send(key: string, events: WireEvent[], headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < events.length; i += 50) {
    const res = await post(pipeline.ingest, batch(events.slice(i, i + 50), { k: key }), { origin: ORIGIN, headers })
    expect(res.status).toBe(202)
    expect(await res.json()).toMatchObject({ accepted: Math.min(50, events.length - i) })
  }
}

async function receipt(key: string, analytics: boolean, src: string): Promise<void> {
  const res = await fetch(`${pipeline.ingest}/v1/consent`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: ORIGIN },
    body: JSON.stringify({ v: 1, k: key, id: randomUUID(), ts: Date.now() - 500, sa: Date.now(), a: analytics, p: false, src, r: '1' }),
  })
  expect(res.status).toBe(202)
}

async function stats(key: string | undefined, path: string): Promise<Response> {
  const res = await fetch(`${pipeline.backoffice}/v1/stats/${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} })
  // A 404 echoes the site the caller asked for; only answers carry data.
  if (key === KEYS.aAnalyst && res.ok) answersA.push({ path: decodeURIComponent(path), text: await res.clone().text() })
  return res
}

async function ok<T>(schema: { parse(v: unknown): T }, key: string, path: string): Promise<T> {
  const res = await stats(key, path)
  expect(res.status, await res.clone().text()).toBe(200)
  return schema.parse(await res.json())
}

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-stats-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(tenants))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: file, STATS_K_ANONYMITY: String(K) })
  await send(WRITE.a, orgA1)
  await send(WRITE.a, orgA2)
  await send(WRITE.b, orgB)
  await send(WRITE.aApp, orgAApp)
  await send(WRITE.aApp, [...appReports, ...appOther])
  await send(WRITE.aShop, shopHumans)
  await send(WRITE.aShop, shopBots, { 'user-agent': BOT_UA })
  for (let i = 0; i < 7; i++) await receipt(WRITE.a, true, 'banner')
  for (let i = 0; i < 2; i++) await receipt(WRITE.a, false, 'banner')
  for (let i = 0; i < 6; i++) await receipt(WRITE.a, false, 'gpc')
  for (let i = 0; i < 9; i++) await receipt(WRITE.b, true, 'banner')
})

afterAll(async () => {
  await pipeline?.stop()
})

const week = `from=${day(D1 - DAY)}&to=${day(today + DAY)}`
const month = `from=${day(today - 20 * DAY)}&to=${day(today + DAY)}`

describe('stats API on the embedded pipeline', () => {
  it('timeseries from the hourly rollup equals what was sent; a day under k is hidden', async () => {
    const body = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${week}&interval=day&bounce=true`)
    expect(body).toMatchObject({ org_id: 'org-a', site: 'web', source: 'rollup_dims_hourly', k: K })
    // a12–a19 saw only /home: 8 of 20 sessions bounced.
    expect(body.buckets).toEqual([
      { t: day(D1), hidden: false, visitors: 20, pageviews: 41, events: 51, sessions: 20, bounce_rate: 0.4 },
      { t: day(D2), hidden: true, visitors: null, pageviews: null, events: null, sessions: null, bounce_rate: null },
    ])
  })

  it('the daily rollup gives the same answer over a longer range, and hours split it', async () => {
    const daily = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${month}&interval=day&bounce=true`)
    expect(daily.source).toBe('rollup_dims_daily')
    expect(daily.buckets.find((b) => b.t === day(D1))).toEqual({ t: day(D1), hidden: false, visitors: 20, pageviews: 41, events: 51, sessions: 20, bounce_rate: 0.4 })
    const hours = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${week}&interval=hour&bounce=true`)
    const t = (h: number) => `${day(D1)}T${String(h).padStart(2, '0')}:00:00`
    // Every session began at 10:00, so later hours have no bounce rate of their own.
    expect(hours.buckets.filter((b) => b.t.startsWith(day(D1)))).toEqual([
      { t: t(10), hidden: false, visitors: 20, pageviews: 20, events: 30, sessions: 20, bounce_rate: 0.4 },
      { t: t(11), hidden: false, visitors: 12, pageviews: 12, events: 12, sessions: 12, bounce_rate: null },
      { t: t(12), hidden: false, visitors: 6, pageviews: 8, events: 8, sessions: 6, bounce_rate: null },
      { t: t(13), hidden: true, visitors: null, pageviews: null, events: null, sessions: null, bounce_rate: null },
    ])
    // Another time zone shifts the wall-clock buckets (Tokyo is UTC+9, no DST).
    const tokyo = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${week}&interval=hour&tz=Asia/Tokyo`)
    expect(tokyo.buckets.find((b) => b.t === t(19))).toMatchObject({ visitors: 20, events: 30 })
  })

  it('breakdown: top pages with exact counts; pages under k only inside "other", itself hidden under k', async () => {
    const all = await ok(BreakdownResponse, KEYS.aAnalyst, `breakdown?site=web&${week}&dimension=url_path&type=pageview`)
    expect(all.rows).toEqual([
      { value: '/home', visitors: 20, events: 23 },
      { value: '/pricing', visitors: 12, events: 12 },
      { value: '/docs', visitors: 6, events: 6 },
    ])
    // /secret-page (2 visitors) and /lonely (1): 2 distinct visitors together, under k.
    expect(all.other).toBeNull()
    const top2 = await ok(BreakdownResponse, KEYS.aAnalyst, `breakdown?site=web&${month}&dimension=url_path&type=pageview&limit=2`)
    expect(top2.source).toBe('rollup_dims_daily')
    expect(top2.rows.map((r) => r.value)).toEqual(['/home', '/pricing'])
    expect(top2.other).toEqual({ visitors: 6, events: 9 })
    const names = await ok(BreakdownResponse, KEYS.aAnalyst, `breakdown?site=web&${week}&dimension=name&type=click`)
    expect(names.rows).toEqual([{ value: 'cta', visitors: 10, events: 10 }])
    const browsers = await ok(BreakdownResponse, KEYS.aAnalyst, `breakdown?site=web&${week}&dimension=browser`)
    expect(browsers.rows).toEqual([{ value: 'Chrome', visitors: 20, events: 54 }])
  })

  it('consent: grants and refusals per source, small counts and what would reveal them hidden', async () => {
    const body = await ok(ConsentResponse, KEYS.aAnalyst, 'consent?site=web')
    expect(body.sources).toEqual([
      { source: 'banner', grants: 7, refusals: null },
      { source: 'gpc', grants: 0, refusals: null },
    ])
    expect(body).toMatchObject({ grants: 7, refusals: 8, grant_rate: 7 / 15, source: 'consent_log' })
  })

  it('keeps each key inside its org whatever site or org_id say', async () => {
    expect((await stats(KEYS.aAnalyst, `timeseries?site=bweb&${week}`)).status).toBe(404)
    expect((await stats(KEYS.aAnalyst, `breakdown?site=bweb&dimension=url_path&${week}`)).status).toBe(404)
    expect((await stats(KEYS.aAnalyst, 'consent?site=bweb')).status).toBe(404)
    expect((await stats(KEYS.bAnalyst, `timeseries?site=web&${week}`)).status).toBe(404)
    const spoofed = await ok(BreakdownResponse, KEYS.aAnalyst, `breakdown?site=web&org_id=org-b&${week}&dimension=url_path&type=pageview`)
    expect(spoofed.org_id).toBe('org-a')
    expect(spoofed.rows.map((r) => r.value)).toEqual(['/home', '/pricing', '/docs'])
    const b = await ok(BreakdownResponse, KEYS.bAnalyst, `breakdown?site=bweb&org_id=org-a&${week}&dimension=url_path&type=pageview`)
    expect(b.rows).toEqual([
      { value: '/b-only', visitors: 8, events: 8 },
      { value: '/home', visitors: 8, events: 8 },
    ])
    const bSeries = await ok(TimeseriesResponse, KEYS.bAnalyst, `timeseries?${week}&bounce=true`)
    expect(bSeries.buckets).toEqual([{ t: day(D1), hidden: false, visitors: 8, pageviews: 16, events: 16, sessions: 8, bounce_rate: 0 }])
    expect((await ok(ConsentResponse, KEYS.bAnalyst, 'consent')).sources).toEqual([{ source: 'banner', grants: 9, refusals: 0 }])
  })

  it('adoption: distinct accounts per period using a feature, hidden under k', async () => {
    const csv = await ok(AdoptionResponse, KEYS.aAnalyst, `adoption?site=app&${week}&feature=export-csv`)
    expect(csv).toMatchObject({ feature: 'export-csv', source: 'rollup_dims_hourly' })
    expect(csv.buckets).toEqual([{ t: day(D1), hidden: false, accounts: 6, visitors: 6, events: 7 }])
    const beta = await ok(AdoptionResponse, KEYS.aAnalyst, `adoption?site=app&${month}&feature=beta`)
    expect(beta.buckets).toEqual([{ t: day(D1), hidden: true, accounts: null, visitors: null, events: null }])
    expect((await stats(KEYS.bAnalyst, `adoption?site=app&${week}&feature=export-csv`)).status).toBe(404)
  })

  it('401 without or with an unknown key, 403 for a privacy key', async () => {
    expect((await stats(undefined, 'timeseries?site=web')).status).toBe(401)
    expect((await stats(newKey(), 'timeseries?site=web')).status).toBe(401)
    expect((await stats(KEYS.aPrivacy, 'timeseries?site=web')).status).toBe(403)
    expect((await stats(KEYS.bPrivacy, 'consent')).status).toBe(403)
  })

  it('sites: the key’s org and its sites with origins and consent mode, whatever org_id says', async () => {
    const res = await stats(KEYS.aAnalyst, 'sites?org_id=org-b')
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(SitesResponse.parse(JSON.parse(text))).toEqual({
      org_id: 'org-a',
      sites: [
        { id: 'web', allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
        { id: 'app', allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
        { id: 'shop', allowed_origins: [SHOP_ORIGIN, ORIGIN], consent_mode: 'opt-in' },
      ],
    })
    expect(text).not.toContain('pk_')
    expect(await ok(SitesResponse, KEYS.bAnalyst, 'sites?org_id=org-a')).toEqual({
      org_id: 'org-b',
      sites: [{ id: 'bweb', allowed_origins: [ORIGIN], consent_mode: 'opt-out' }],
    })
    expect((await stats(KEYS.aPrivacy, 'sites')).status).toBe(403)
    expect((await stats(undefined, 'sites')).status).toBe(401)
  })

  // Under 65,536 distinct values uniq is exact but for 32-bit hash collisions (docs/warehouse.md), and these ids have none:
  // within its documented error, rollup and raw must agree exactly here.
  const SAME_QUESTIONS: [string, boolean][] = [
    [`timeseries?site=web&${week}&interval=day&bounce=true`, true],
    [`timeseries?site=web&${week}&interval=day`, true],
    [`timeseries?site=web&${month}&interval=day`, true],
    [`timeseries?site=web&${month}&interval=week`, true],
    [`timeseries?site=web&${month}&interval=month`, true],
    [`timeseries?site=web&${week}&interval=hour`, true],
    [`timeseries?site=web&${week}&interval=hour&tz=Asia/Tokyo`, true],
    [`timeseries?site=web&${week}&interval=day&tz=America/New_York`, true],
    [`timeseries?site=shop&${week}&interval=hour&bounce=true`, true],
    [`timeseries?site=shop&${month}&interval=day&bounce=true`, true],
    [`timeseries?site=app&${month}&interval=week`, true],
    [`breakdown?site=web&${week}&dimension=url_path&type=pageview`, true],
    [`breakdown?site=web&${month}&dimension=url_path&type=pageview&limit=2`, true],
    [`breakdown?site=web&${week}&dimension=name&type=click`, true],
    [`breakdown?site=web&${week}&dimension=browser`, true],
    [`breakdown?site=web&${week}&dimension=country`, true],
    [`breakdown?site=web&${week}&dimension=referrer_host`, true],
    [`breakdown?site=shop&${month}&dimension=url_path`, true],
    [`breakdown?site=shop&${week}&dimension=name`, true],
    [`adoption?site=app&${week}&feature=export-csv`, true],
    [`adoption?site=app&${month}&feature=reports&interval=week`, true],
    [`adoption?site=app&${month}&feature=beta`, false],
  ]

  it('source=raw answers every question exactly as the rollups do, with the same k-anonymity', async () => {
    for (const [question, hasData] of SAME_QUESTIONS) {
      const schema: { parse(v: unknown): { source: string } } = question.startsWith('timeseries')
        ? TimeseriesResponse
        : question.startsWith('breakdown')
          ? BreakdownResponse
          : AdoptionResponse
      const auto = await ok(schema, KEYS.aAnalyst, question)
      const rollup = await ok(schema, KEYS.aAnalyst, `${question}&source=rollup`)
      const raw = await ok(schema, KEYS.aAnalyst, `${question}&source=raw`)
      expect(rollup.source, question).toMatch(/^rollup_dims_(hourly|daily)$/)
      expect(raw.source, question).toBe('events')
      expect(auto, question).toEqual(rollup)
      const { source: _rollup, ...fromRollup } = rollup
      const { source: _raw, ...fromRaw } = raw
      expect(fromRaw, question).toEqual(fromRollup)
      expect(/"(visitors|accounts)":[1-9]/.test(JSON.stringify(raw)), question).toBe(hasData)
    }
  })

  it('raw answers equal the exact counts computed from what was sent (bots left out, bounces by first event)', async () => {
    const series = (site: keyof typeof sent, from: number, to: number, interval: reference.Interval, tz = 'UTC') =>
      reference.timeseries(sent[site](), { from: day(from), to: day(to), interval, tz, bounce: true }, K)
    const ts = async (q: string) => (await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?${q}&source=raw&bounce=true`)).buckets
    expect(await ts(`site=web&${week}&interval=hour&tz=Asia/Tokyo`)).toEqual(series('web', D1 - DAY, today + DAY, 'hour', 'Asia/Tokyo'))
    expect(await ts(`site=web&${month}&interval=week`)).toEqual(series('web', today - 20 * DAY, today + DAY, 'week'))
    const shopHours = await ts(`site=shop&${week}&interval=hour`)
    expect(shopHours).toEqual(series('shop', D1 - DAY, today + DAY, 'hour'))
    // f9 and f10 began their sessions at 13:59 with a click: hour 13 holds 2 visitors (hidden) and their
    // sessions; 14:00 has 14 visitors but the other 12 sessions, of which f11's (one pageview) bounced.
    const at = (h: number) => shopHours.find((b) => b.t === `${day(D1)}T${h}:00:00`)
    expect(at(13)).toMatchObject({ hidden: true, bounce_rate: null })
    expect(at(14)).toMatchObject({ hidden: false, visitors: 14, bounce_rate: 1 / 12 })
    expect(await ts(`site=app&${month}&interval=week`)).toEqual(series('app', today - 20 * DAY, today + DAY, 'week'))
    const bseries = await ok(TimeseriesResponse, KEYS.bAnalyst, `timeseries?site=bweb&${week}&source=raw&bounce=true`)
    expect(bseries.buckets).toEqual(reference.timeseries(sent.bweb(), { from: day(D1 - DAY), to: day(today + DAY), interval: 'day', bounce: true }, K))
    // Without bounce=true, the same counts and no bounce_rate: nothing read per session.
    const plain = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=shop&${week}&interval=hour&source=raw`)
    expect(plain.buckets).toEqual(reference.timeseries(sent.shop(), { from: day(D1 - DAY), to: day(today + DAY), interval: 'hour' }, K))
    expect(plain.buckets.some((b) => 'bounce_rate' in b)).toBe(false)

    const bd = async (q: string) => {
      const b = await ok(BreakdownResponse, KEYS.aAnalyst, `breakdown?${q}&source=raw`)
      return { rows: b.rows, other: b.other }
    }
    const r = { from: day(D1 - DAY), to: day(today + DAY) }
    expect(await bd(`site=web&${week}&dimension=url_path&type=pageview&limit=2`)).toEqual(reference.breakdown(sent.web(), r, { dimension: 'url_path', type: 'pageview', limit: 2 }, K))
    expect(await bd(`site=web&${week}&dimension=name`)).toEqual(reference.breakdown(sent.web(), r, { dimension: 'name', limit: 10 }, K))
    const shopPaths = await bd(`site=shop&${week}&dimension=url_path`)
    expect(shopPaths).toEqual(reference.breakdown(sent.shop(), r, { dimension: 'url_path', limit: 10 }, K))
    // Every non-pageview event of the shop was sent from /landing too: 12 + 2 pageviews, 11 clicks, 9 features, 3 customs.
    expect(shopPaths.rows).toEqual([{ value: '/landing', visitors: 14, events: 37 }])
    expect(await bd(`site=shop&${week}&dimension=name&type=custom`)).toEqual({ rows: [], other: null })

    const adoption = async (q: string) => (await ok(AdoptionResponse, KEYS.aAnalyst, `adoption?${q}&source=raw`)).buckets
    expect(await adoption(`site=app&${month}&feature=reports&interval=week`)).toEqual(
      reference.adoption(sent.app(), { from: day(today - 20 * DAY), to: day(today + DAY), interval: 'week' }, 'reports', K),
    )
    expect(await adoption(`site=app&${week}&feature=export-csv`)).toEqual([{ t: day(D1), hidden: false, accounts: 6, visitors: 6, events: 7 }])
  })

  it('raw reads stop at the raw retention: older ranges are refused, the rollups still answer', async () => {
    const old = `from=${day(today - 400 * DAY)}&to=${day(today - 380 * DAY)}`
    const refused = await stats(KEYS.aAnalyst, `timeseries?site=web&${old}&source=raw`)
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { message: string }).message).toMatch(/retention/)
    expect((await stats(KEYS.aAnalyst, `breakdown?site=web&${old}&dimension=url_path&source=raw`)).status).toBe(400)
    expect((await stats(KEYS.aAnalyst, `adoption?site=app&${old}&feature=reports&source=raw`)).status).toBe(400)
    expect((await stats(KEYS.aAnalyst, `funnel?site=shop&${old}&steps=a,b`)).status).toBe(400)
    expect((await stats(KEYS.aAnalyst, `adoption/cohorts?site=app&${old}&feature=reports`)).status).toBe(400)
    const rollup = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${old}`)
    expect(rollup).toMatchObject({ source: 'rollup_dims_daily', buckets: [] })
    expect((await stats(KEYS.aAnalyst, `timeseries?site=web&${week}&source=events`)).status).toBe(400)
  })

  it('funnel: visitors reaching each step in order within the window, exact; bots never count; under k hidden from there on', async () => {
    const steps = 'pageview:/landing,signup,feature:onboarded,custom:paid'
    const parsed = [
      { type: 'pageview', value: '/landing' },
      { type: null, value: 'signup' },
      { type: 'feature', value: 'onboarded' },
      { type: 'custom', value: 'paid' },
    ]
    const r = { from: day(D1 - DAY), to: day(today + DAY) }
    const funnel = (key: string, q: string) => ok(FunnelResponse, key, `funnel?${q}`)
    const half = await funnel(KEYS.aAnalyst, `site=shop&${week}&steps=${encodeURIComponent(steps)}`)
    expect(half).toMatchObject({ org_id: 'org-a', site: 'shop', window: 1800, source: 'events', k: K })
    // 14 land (f0–f11, r0–r1); f9 and f10 signed up before landing; 3 paid: under k, although 5 bots paid too.
    expect(half.steps).toEqual([
      { step: 'pageview:/landing', type: 'pageview', value: '/landing', visitors: 14, conversion: null },
      { step: 'signup', type: null, value: 'signup', visitors: 9, conversion: 9 / 14 },
      { step: 'feature:onboarded', type: 'feature', value: 'onboarded', visitors: 6, conversion: 6 / 9 },
      { step: 'custom:paid', type: 'custom', value: 'paid', visitors: null, conversion: null },
    ])
    expect(half.steps.map(({ visitors, conversion }) => ({ visitors, conversion }))).toEqual(reference.funnel(sent.shop(), r, parsed, 1800, K))
    // A day's window lets f6–f8's onboarding two hours later count.
    const day1 = await funnel(KEYS.aAnalyst, `site=shop&${week}&window=86400&steps=${encodeURIComponent(steps)}`)
    expect(day1.steps.map((s) => s.visitors)).toEqual([14, 9, 9, null])
    expect(day1.steps.map(({ visitors, conversion }) => ({ visitors, conversion }))).toEqual(reference.funnel(sent.shop(), r, parsed, 86_400, K))
    // A first step under k hides every later one.
    const rare = await funnel(KEYS.aAnalyst, `site=shop&${week}&steps=${encodeURIComponent('pageview:/rare,pageview:/landing')}`)
    expect(rare.steps.map((s) => [s.visitors, s.conversion])).toEqual([
      [null, null],
      [null, null],
    ])
    const pages = [
      { type: 'pageview', value: '/home' },
      { type: 'pageview', value: '/pricing' },
      { type: 'pageview', value: '/docs' },
      { type: 'pageview', value: '/secret-page' },
    ]
    const webSteps = encodeURIComponent(pages.map((p) => `pageview:${p.value}`).join(','))
    const web = await funnel(KEYS.aAnalyst, `site=web&${week}&window=86400&steps=${webSteps}`)
    // Org B's 8 visitors of /home are not org A's.
    expect(web.steps.map((s) => s.visitors)).toEqual([20, 12, 6, null])
    expect(web.steps.map(({ visitors, conversion }) => ({ visitors, conversion }))).toEqual(reference.funnel(sent.web(), r, pages, 86_400, K))
  })

  it('funnel stays inside the key’s org', async () => {
    const q = `${week}&steps=${encodeURIComponent('pageview:/home,pageview:/b-only')}`
    expect((await stats(KEYS.aAnalyst, `funnel?site=bweb&${q}`)).status).toBe(404)
    expect((await stats(KEYS.bAnalyst, `funnel?site=shop&${q}`)).status).toBe(404)
    expect((await stats(KEYS.aPrivacy, `funnel?site=shop&${q}`)).status).toBe(403)
    expect((await stats(KEYS.bPrivacy, `funnel?site=bweb&${q}`)).status).toBe(403)
    const b = await ok(FunnelResponse, KEYS.bAnalyst, `funnel?org_id=org-a&${q}`)
    expect(b).toMatchObject({ org_id: 'org-b', site: 'bweb' })
    expect(b.steps.map((s) => [s.visitors, s.conversion])).toEqual([
      [8, null],
      [8, 1],
    ])
    const forged = await ok(FunnelResponse, KEYS.aAnalyst, `funnel?site=web&org_id=org-b&${q}`)
    expect(forged.org_id).toBe('org-a')
    expect(forged.steps.map((s) => s.visitors)).toEqual([20, null])
  })

  it('first-use cohorts: accounts by week of first use and their later weeks, exact; cohorts and cells under k hidden', async () => {
    const r = { from: day(W[0] ?? 0), to: day(today + DAY) }
    const body = await ok(CohortsResponse, KEYS.aAnalyst, `adoption/cohorts?site=app&feature=reports&from=${r.from}&to=${r.to}`)
    expect(body).toMatchObject({ org_id: 'org-a', site: 'app', feature: 'reports', interval: 'week', source: 'events', k: K })
    expect(body.periods.slice(0, 4)).toEqual(W.map(day))
    expect({ periods: body.periods, cohorts: body.cohorts }).toEqual(reference.cohorts(sent.app(), r, 'reports', 'week', K))
    expect(body.cohorts.map((c) => [c.cohort, c.hidden, c.accounts])).toEqual([
      [day(W[0] ?? 0), false, 8],
      [day(W[1] ?? 0), false, 6],
      [day(W[2] ?? 0), true, null],
    ])
    expect(body.cohorts[0]?.retained.slice(0, 3).map((c) => c.accounts)).toEqual([6, null, 7])
    expect(body.cohorts[1]?.retained.slice(0, 2).map((c) => c.accounts)).toEqual([6, null])
    expect(body.cohorts[2]?.retained.every((c) => c.accounts === null)).toBe(true)
    const months = await ok(CohortsResponse, KEYS.aAnalyst, `adoption/cohorts?site=app&feature=reports&from=${r.from}&to=${r.to}&interval=month`)
    expect({ periods: months.periods, cohorts: months.cohorts }).toEqual(reference.cohorts(sent.app(), r, 'reports', 'month', K))
    const numbers = [...body.cohorts, ...months.cohorts].flatMap((c) => [c.accounts, ...c.retained.map((cell) => cell.accounts)])
    for (const n of numbers) if (n !== null) expect(n).toBeGreaterThanOrEqual(K)
  })

  it('cohorts stay inside the key’s org', async () => {
    const q = `feature=reports&from=${day(W[0] ?? 0)}&to=${day(today + DAY)}`
    expect((await stats(KEYS.bAnalyst, `adoption/cohorts?site=app&${q}`)).status).toBe(404)
    expect((await stats(KEYS.aAnalyst, `adoption/cohorts?site=bweb&${q}`)).status).toBe(404)
    expect((await stats(KEYS.aPrivacy, `adoption/cohorts?site=app&${q}`)).status).toBe(403)
    const forged = await ok(CohortsResponse, KEYS.aAnalyst, `adoption/cohorts?site=app&org_id=org-b&${q}`)
    expect(forged.org_id).toBe('org-a')
    expect(forged.cohorts.map((c) => c.accounts)).toEqual([8, 6, null])
    const b = await ok(CohortsResponse, KEYS.bAnalyst, `adoption/cohorts?org_id=org-a&${q}`)
    expect(b).toMatchObject({ org_id: 'org-b', site: 'bweb', cohorts: [] })
  })

  it('raw reads and bounces keep to the key’s org too', async () => {
    expect((await stats(KEYS.aAnalyst, `timeseries?site=bweb&${week}&source=raw`)).status).toBe(404)
    expect((await stats(KEYS.bAnalyst, `timeseries?site=web&${week}&bounce=true`)).status).toBe(404)
    expect((await stats(KEYS.bAnalyst, `breakdown?site=web&${week}&dimension=url_path&source=raw`)).status).toBe(404)
    expect((await stats(KEYS.bAnalyst, `adoption?site=app&${week}&feature=reports&source=raw`)).status).toBe(404)
    expect((await stats(KEYS.aPrivacy, `timeseries?site=web&${week}&source=raw`)).status).toBe(403)
    const forged = await ok(BreakdownResponse, KEYS.aAnalyst, `breakdown?site=web&org_id=org-b&${week}&dimension=url_path&type=pageview&source=raw`)
    expect(forged).toMatchObject({ org_id: 'org-a', source: 'events' })
    expect(forged.rows.map((r) => r.value)).toEqual(['/home', '/pricing', '/docs'])
  })

  it('no org A answer shows visitors or accounts under k', () => {
    for (const { path, text } of answersA) expect(text, path).not.toMatch(/"(visitors|accounts)":[1-4][,}]/)
  })

  it('serves /openapi.json without auth, with every stats path', async () => {
    const res = await fetch(`${pipeline.backoffice}/openapi.json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/shared/{token}/stats/{endpoint}',
      '/v1/shares',
      '/v1/shares/{id}',
      '/v1/stats/adoption',
      '/v1/stats/adoption/cohorts',
      '/v1/stats/aggregate',
      '/v1/stats/breakdown',
      '/v1/stats/consent',
      '/v1/stats/export',
      '/v1/stats/funnel',
      '/v1/stats/goals',
      '/v1/stats/realtime',
      '/v1/stats/realtime/integration',
      '/v1/stats/sites',
      '/v1/stats/timeseries',
    ])
    for (const schema of ['BreakdownResponse', 'SitesResponse', 'FunnelResponse', 'CohortsResponse', 'TimeseriesResponse'])
      expect(Object.keys(doc.components.schemas)).toContain(schema)
    const series = doc.components.schemas.TimeseriesResponse as { properties: { buckets: { items: { properties: Record<string, unknown> } } } }
    expect(Object.keys(series.properties.buckets.items.properties)).toContain('bounce_rate')
    const params = (doc.paths['/v1/stats/timeseries'] as { get: { parameters: { name: string; required: boolean; schema: unknown }[] } }).get.parameters
    expect(params.find((p) => p.name === 'bounce')).toMatchObject({ required: false, schema: { type: 'string', enum: ['true', 'false'], default: 'false' } })
  })

  it('no org A answer ever named a page under k or anything of org B (unless the question itself did)', () => {
    expect(answersA.length).toBeGreaterThan(40)
    for (const { path, text } of answersA) for (const name of NEVER_NAMED_FOR_A) if (!path.includes(name)) expect(text, path).not.toContain(name)
  })
})
