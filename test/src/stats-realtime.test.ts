import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { IntegrationResponse, RealtimeResponse, type WireEvent } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, HEADLESS_UA, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'

// Realtime and the integration view end to end on the built embedded pipeline: events arrive in phases
// and each answer must follow them exactly, under k = 5, with bots counted apart and never as people.
// Org B has a site with the same id and more traffic: none of it may show in org A's answers.

const ORIGIN = 'http://localhost:3996'
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { a: newKey(), b: newKey() }
const WRITE = { a: 'pk_live_a', b: 'pk_live_b' }

const tenants = {
  orgs: ['a', 'b'].map((o) => ({
    id: `org-${o}`,
    name: o,
    api_keys: [{ id: `${o}-analyst`, hash: sha256(KEYS[o as 'a' | 'b']), role: 'analyst' }],
    sites: [{ id: 'live', write_key: WRITE[o as 'a' | 'b'], allowed_origins: [ORIGIN], consent_mode: 'opt-out' }],
  })),
}

let pipeline: RunningPipeline
/** Every event of these tests happens in this one minute, so its bucket is known. */
let T0: number
const minuteOf = (ms: number) => new Date(ms).toISOString().slice(0, 16)

const pageview = (visitor: string): WireEvent => event({ a: `anon_${visitor}`, s: `sess_${visitor}`, u: 'https://live.example.com/', ts: T0 })
const click = (visitor: string, name: string): WireEvent => event({ t: 'click', n: name, a: `anon_${visitor}`, s: `sess_${visitor}`, u: 'https://live.example.com/', ts: T0 })

async function send(writeKey: string, events: WireEvent[], headers: Record<string, string> = {}): Promise<void> {
  const res = await post(pipeline.ingest, batch(events, { k: writeKey }), { origin: ORIGIN, headers })
  expect(res.status).toBe(202)
}

async function get<T>(schema: { parse(v: unknown): T }, key: string, path: string): Promise<T> {
  const res = await fetch(`${pipeline.backoffice}/v1/stats/${path}`, { headers: { authorization: `Bearer ${key}` } })
  expect(res.status, await res.clone().text()).toBe(200)
  return schema.parse(await res.json())
}

/** Polls the integration view until `ready` holds (events are written a moment after ingest accepts them). */
async function integrationWhen(ready: (v: IntegrationResponse) => boolean): Promise<IntegrationResponse> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const view = await get(IntegrationResponse, KEYS.a, 'realtime/integration?site=live')
    if (ready(view) || Date.now() > deadline) return view
    await new Promise((r) => setTimeout(r, 200))
  }
}

const realtime = () => get(RealtimeResponse, KEYS.a, 'realtime?site=live')
const bucketOf = (r: RealtimeResponse) => r.minutes.find((m) => m.t === minuteOf(T0))

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-realtime-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(tenants))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: file, STATS_K_ANONYMITY: String(K) })
  // Mid-minute (the clock correction moves ts by milliseconds), in the past, and well inside the five-minute window.
  const half = Math.floor((Date.now() - 1000) / 60_000) * 60_000 + 30_000
  T0 = half <= Date.now() - 1000 ? half : half - 60_000
  await send(
    WRITE.b,
    Array.from({ length: 9 }, (_, i) => pageview(`b${i}`)),
  )
}, 120_000)

afterAll(async () => {
  await pipeline?.stop()
})

describe('realtime and the integration view', () => {
  it('before anything arrives: 30 empty minutes, visitors 0, no last event', async () => {
    const r = await realtime()
    expect(r).toMatchObject({ org_id: 'org-a', site: 'live', k: K, visitors_5m: 0, hidden: false })
    expect(r.minutes).toHaveLength(30)
    expect(r.minutes.every((m) => m.events === 0 && m.visitors === 0)).toBe(true)
    expect(r.minutes.at(-1)?.t).toBe(minuteOf(Date.parse(r.now)))
    const view = await get(IntegrationResponse, KEYS.a, 'realtime/integration?site=live')
    expect(view).toEqual({ org_id: 'org-a', site: 'live', window_minutes: 30, last_event_at: null, humans: { events: 0, hidden: false, by_name: [] }, bots: { events: 0, by_name: [] } })
  })

  it('k − 1 visitors and a headless browser: the bot is counted exactly and apart, the people hidden', async () => {
    const sentAt = Date.now()
    await send(WRITE.a, [0, 1, 2, 3].map((i) => pageview(`a${i}`)))
    await send(WRITE.a, [pageview('bot0'), pageview('bot0'), click('bot0', 'signup')], { 'user-agent': HEADLESS_UA })
    const view = await integrationWhen((v) => v.bots.events === 3 && v.humans.by_name.length > 0)
    expect(view.bots).toEqual({ events: 3, by_name: [{ type: 'pageview', name: '', events: 2 }, { type: 'click', name: 'signup', events: 1 }] })
    expect(view.humans).toEqual({ events: null, hidden: true, by_name: [{ type: 'pageview', name: '', events: null }] })
    const last = Date.parse(view.last_event_at ?? '')
    expect(view.last_event_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    expect(last).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000) * 1000)
    expect(last).toBeLessThanOrEqual(Date.now())
    const r = await realtime()
    expect(bucketOf(r)).toEqual({ t: minuteOf(T0), events: null, visitors: null })
    expect(r).toMatchObject({ visitors_5m: null, hidden: true })
  })

  it('the k-th visitor shows the minute exactly: 5 people, their 5 events, never the bot’s', async () => {
    await send(WRITE.a, [pageview('a4')])
    const view = await integrationWhen((v) => v.humans.events !== null)
    expect(view.humans).toEqual({ events: 5, hidden: false, by_name: [{ type: 'pageview', name: '', events: 5 }] })
    expect(view.bots.events).toBe(3)
    const r = await realtime()
    expect(bucketOf(r)).toEqual({ t: minuteOf(T0), events: 5, visitors: 5 })
    expect(r).toMatchObject({ visitors_5m: 5, hidden: false })
    // Every other minute is empty: org B's nine visitors on its own "live" are not here.
    expect(r.minutes.filter((m) => m.t !== minuteOf(T0)).every((m) => m.events === 0 && m.visitors === 0)).toBe(true)
  })

  it('a name fewer than k did stays hidden, and so does the one that would give it away by subtraction', async () => {
    await send(WRITE.a, [click('a0', 'signup'), click('a1', 'signup')])
    const view = await integrationWhen((v) => v.humans.events === 7)
    // total 7 − pageviews 5 would tell that two clicked: both are withheld.
    expect(view.humans).toEqual({
      events: 7,
      hidden: false,
      by_name: [
        { type: 'click', name: 'signup', events: null },
        { type: 'pageview', name: '', events: null },
      ],
    })
    await send(WRITE.a, [2, 3, 4].map((i) => click(`a${i}`, 'signup')))
    const enough = await integrationWhen((v) => v.humans.events === 10)
    expect(enough.humans.by_name).toEqual([
      { type: 'click', name: 'signup', events: 5 },
      { type: 'pageview', name: '', events: 5 },
    ])
    expect(bucketOf(await realtime())).toEqual({ t: minuteOf(T0), events: 10, visitors: 5 })
    // Org B sees its own site only.
    const b = await get(RealtimeResponse, KEYS.b, 'realtime?site=live')
    expect(b.minutes.find((m) => m.t === minuteOf(T0))).toEqual({ t: minuteOf(T0), events: 9, visitors: 9 })
  })

  it('format=csv: the same cells as the JSON answer', async () => {
    const res = await fetch(`${pipeline.backoffice}/v1/stats/realtime?site=live&format=csv`, { headers: { authorization: `Bearer ${KEYS.a}` } })
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="live-realtime.csv"')
    const lines = (await res.text()).split('\r\n')
    expect(lines[0]).toBe('t,events,visitors')
    expect(lines).toContain(`${minuteOf(T0)},10,5`)
    expect(lines).toHaveLength(32)
  })
})
