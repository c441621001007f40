import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AdoptionResponse, BreakdownResponse, ConsentResponse, TimeseriesResponse, type WireEvent } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'

// The stats API end to end on the built embedded pipeline: known traffic for two orgs goes in
// through ingest, and every answer must equal it, be k-anonymous (k = 5) and stay inside the key's org.

const ORIGIN = 'http://localhost:3997'
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { aAnalyst: newKey(), aPrivacy: newKey(), bAnalyst: newKey(), bPrivacy: newKey() }
const WRITE = { a: 'pk_stats_a', aApp: 'pk_stats_a_app', b: 'pk_stats_b' }

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
const NEVER_NAMED_FOR_A = ['/secret-page', '/lonely', '/b-only', 'org-b', 'bweb']

let pipeline: RunningPipeline
/** Every org A answer body, checked at the end for names that must never appear. */
const answersA: string[] = []

async function send(key: string, events: WireEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 50) {
    const res = await post(pipeline.ingest, batch(events.slice(i, i + 50), { k: key }), { origin: ORIGIN })
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
  if (key === KEYS.aAnalyst && res.ok) answersA.push(await res.clone().text())
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
    const body = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${week}&interval=day`)
    expect(body).toMatchObject({ org_id: 'org-a', site: 'web', source: 'rollup_hourly', k: K })
    expect(body.buckets).toEqual([
      { t: day(D1), hidden: false, visitors: 20, pageviews: 41, events: 51, sessions: 20 },
      { t: day(D2), hidden: true, visitors: null, pageviews: null, events: null, sessions: null },
    ])
  })

  it('the daily rollup gives the same answer over a longer range, and hours split it', async () => {
    const daily = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${month}&interval=day`)
    expect(daily.source).toBe('rollup_daily')
    expect(daily.buckets.find((b) => b.t === day(D1))).toEqual({ t: day(D1), hidden: false, visitors: 20, pageviews: 41, events: 51, sessions: 20 })
    const hours = await ok(TimeseriesResponse, KEYS.aAnalyst, `timeseries?site=web&${week}&interval=hour`)
    const t = (h: number) => `${day(D1)}T${String(h).padStart(2, '0')}:00:00`
    expect(hours.buckets.filter((b) => b.t.startsWith(day(D1)))).toEqual([
      { t: t(10), hidden: false, visitors: 20, pageviews: 20, events: 30, sessions: 20 },
      { t: t(11), hidden: false, visitors: 12, pageviews: 12, events: 12, sessions: 12 },
      { t: t(12), hidden: false, visitors: 6, pageviews: 8, events: 8, sessions: 6 },
      { t: t(13), hidden: true, visitors: null, pageviews: null, events: null, sessions: null },
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
    expect(top2.source).toBe('rollup_daily')
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
    const bSeries = await ok(TimeseriesResponse, KEYS.bAnalyst, `timeseries?${week}`)
    expect(bSeries.buckets).toEqual([{ t: day(D1), hidden: false, visitors: 8, pageviews: 16, events: 16, sessions: 8 }])
    expect((await ok(ConsentResponse, KEYS.bAnalyst, 'consent')).sources).toEqual([{ source: 'banner', grants: 9, refusals: 0 }])
  })

  it('adoption: distinct accounts per period using a feature, hidden under k', async () => {
    const csv = await ok(AdoptionResponse, KEYS.aAnalyst, `adoption?site=app&${week}&feature=export-csv`)
    expect(csv).toMatchObject({ feature: 'export-csv', source: 'rollup_hourly' })
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

  it('serves /openapi.json without auth, with every stats path', async () => {
    const res = await fetch(`${pipeline.backoffice}/openapi.json`)
    expect(res.status).toBe(200)
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/stats/adoption', '/v1/stats/breakdown', '/v1/stats/consent', '/v1/stats/timeseries'])
    expect(Object.keys(doc.components.schemas)).toContain('BreakdownResponse')
  })

  it('no org A answer ever named a page under k or anything of org B', () => {
    expect(answersA.length).toBeGreaterThan(8)
    for (const text of answersA) for (const name of NEVER_NAMED_FOR_A) expect(text).not.toContain(name)
  })
})
