import { randomBytes } from 'node:crypto'
import { type IpKeyring, openIp, pseudonymizer, sealIp } from '@atspark/runtime'
import { type BusMessage, BusMessage as BusMessageSchema, type Envelope } from '@atspark/schemas'
import { beforeAll, describe, expect, it } from 'vitest'
import { correctTimestamp, ipOpener, openGeo, parseUserAgent, toEventRows } from '@atspark/processor'
import { publishInChunks } from './seed.js'
import { demoTraffic, demoVisits } from './traffic.js'
import { DEVICES, REGIONS } from './traffic-profiles.js'

const keyring: IpKeyring = { active: 'k1', keys: new Map([['k1', randomBytes(32)]]) }
const context = { orgId: 'demo', siteId: 'demo' }
const NOW = Date.UTC(2026, 5, 15, 13, 37)
const DAY_MS = 86_400_000
const options = { ...context, siteUrl: 'http://localhost:3000', now: NOW, seal: (ip: string) => sealIp(ip, keyring, context) }
const ALL_IPS = REGIONS.flatMap((r) => r.ips)

/** Without the sealed IP, whose IV is random by design. */
const unsealed = (m: BusMessage) => (m.kind === 'events' ? { ...m, ip_sealed: '' } : m)

describe('demoTraffic', () => {
  let messages: BusMessage[]
  let envelopes: Envelope[]
  beforeAll(() => {
    messages = [...demoTraffic(options)]
    envelopes = messages.filter((m): m is Envelope => m.kind === 'events')
  })

  it('is deterministic for a seed and differs across seeds', () => {
    const a = [...demoTraffic({ ...options, visitors: 200 })].map(unsealed)
    const b = [...demoTraffic({ ...options, visitors: 200 })].map(unsealed)
    const c = [...demoTraffic({ ...options, visitors: 200, seed: 7 })].map(unsealed)
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
  })

  it('every message passes the BusMessage schema', () => {
    for (const m of messages) expect(BusMessageSchema.safeParse(m).success).toBe(true)
  })

  it('has a few thousand visitors and tens of thousands of events', () => {
    const visitors = new Set(envelopes.flatMap((e) => e.events.map((ev) => ev.a)))
    const events = envelopes.reduce((n, e) => n + e.events.length, 0)
    expect(visitors.size).toBeGreaterThan(2_000)
    expect(visitors.size).toBeLessThanOrEqual(3_000)
    expect(events).toBeGreaterThan(10_000)
    expect(events).toBeLessThan(60_000)
  })

  it('spans the last 30 UTC days, after correction, and nothing lands in the future', () => {
    const days = new Set<number>()
    for (const e of envelopes) {
      expect(e.received_at).toBeLessThan(NOW)
      for (const ev of e.events) {
        const ts = correctTimestamp(ev.ts, e.sent_at, e.received_at)
        expect(ts).toBeLessThanOrEqual(e.received_at)
        days.add(Math.floor(ts / DAY_MS))
      }
    }
    expect(days.size).toBe(30)
    expect(Math.min(...days)).toBe(Math.floor(NOW / DAY_MS) - 29)
  })

  it('covers several countries, devices, pages, referrers and every event type', async () => {
    const geo = await openGeo()
    const countries = new Set(envelopes.map((e) => geo.country(openIp(e.ip_sealed, keyring, context))))
    const devices = new Set(envelopes.map((e) => parseUserAgent(e.ua).device_type))
    const events = envelopes.flatMap((e) => e.events)
    const pages = new Set(events.filter((e) => e.t === 'pageview').map((e) => new URL(e.u ?? '').pathname))
    const referrers = new Set(events.flatMap((e) => (e.r ? [new URL(e.r).host] : [])))
    expect(countries.size).toBeGreaterThanOrEqual(10)
    expect(countries.has('')).toBe(false)
    expect([...devices].sort()).toEqual(['bot', 'desktop', 'mobile', 'tablet'])
    expect(pages.size).toBeGreaterThanOrEqual(8)
    expect(referrers.size).toBeGreaterThanOrEqual(5)
    expect(new Set(events.map((e) => e.t))).toEqual(new Set(['pageview', 'click', 'query', 'dashboard', 'feature', 'custom']))
    const features = events.filter((e) => e.t === 'feature')
    expect(features.length).toBeGreaterThan(100)
    expect(features.every((e) => e.uid)).toBe(true)
  })

  it('sends receipts with grants and refusals from banner, api and GPC, and no events from refusers', () => {
    const receipts = messages.flatMap((m) => (m.kind === 'consent' ? [m.receipt] : []))
    expect(receipts.some((r) => r.a)).toBe(true)
    expect(receipts.some((r) => !r.a)).toBe(true)
    expect(new Set(receipts.map((r) => r.src))).toEqual(new Set(['banner', 'api', 'gpc', 'dnt']))
    expect(new Set(receipts.map((r) => r.id)).size).toBe(receipts.length)
    const visits = [...demoVisits(options)]
    // The visit-by-visit view is the same traffic, message for message.
    expect(visits.flatMap((v) => v.messages).map(unsealed)).toEqual(messages.map(unsealed))
    const refusers = visits.filter((v) => v.consent.kind === 'refuse')
    expect(refusers.length).toBeGreaterThan(100)
    for (const visit of refusers) {
      // At most the refusal's receipt (none when it would fall after `now`): not one event envelope.
      expect(visit.messages.map((m) => m.kind)).toEqual(visit.messages.length ? ['consent'] : [])
    }
    // And the others do send events, so the check above can tell right from wrong.
    const granters = visits.filter((v) => v.consent.kind === 'grant')
    expect(granters.filter((v) => v.messages.some((m) => m.kind === 'events')).length).toBeGreaterThan(granters.length * 0.9)
  })

  it('through the processor, gives every channel, campaign and the signup goal at least k = 5 visitors, in multi-page visits', async () => {
    const deps = { geo: await openGeo(), pseudonymize: pseudonymizer(() => 'demo-secret'), openIp: ipOpener(() => keyring) }
    const rows = envelopes.flatMap((e) => toEventRows(e, deps)).filter((r) => !r.is_bot)
    // A visit's channel and tags are its first event's, its entry and exit pages its first and last pageview's.
    const visits = new Map<string, typeof rows>()
    for (const r of rows) visits.set(r.session_id, [...(visits.get(r.session_id) ?? []), r])
    const visitorsBy = (key: (first: (typeof rows)[number]) => string) => {
      const out = new Map<string, Set<string>>()
      for (const events of visits.values()) {
        const first = events.reduce((a, b) => (b.ts < a.ts ? b : a))
        const k = key(first)
        out.set(k, (out.get(k) ?? new Set()).add(first.anon_id))
      }
      return new Map([...out].map(([k, v]) => [k, v.size]))
    }
    const channels = visitorsBy((f) => f.channel)
    for (const c of ['Direct', 'Organic Search', 'Paid Search', 'Organic Social', 'Paid Social', 'Email', 'Referral', 'Video', 'Affiliates']) {
      expect(channels.get(c) ?? 0, c).toBeGreaterThanOrEqual(5)
    }
    expect(channels.has('Internal')).toBe(false)
    const campaigns = visitorsBy((f) => f.utm_campaign)
    for (const c of ['spring', 'brand_search', 'q4_webinar']) expect(campaigns.get(c) ?? 0, c).toBeGreaterThanOrEqual(5)
    expect(visitorsBy((f) => `${f.utm_source}/${f.utm_medium}`).get('google/cpc')).toBeGreaterThanOrEqual(5)
    expect(visitorsBy((f) => f.utm_content).get('carousel_a')).toBeGreaterThanOrEqual(5)
    expect(visitorsBy((f) => f.utm_term).get('privacy analytics')).toBeGreaterThanOrEqual(5)
    // Later pages of a tagged visit carry no tags: only the landing URL has them.
    const landed = [...visits.values()].filter((events) => events.some((e) => e.utm_campaign !== ''))
    expect(landed.some((events) => events.some((e) => e.type === 'pageview' && e.utm_campaign === ''))).toBe(true)

    const signups = rows.filter((r) => r.type === 'custom' && r.name === 'signup')
    expect(new Set(signups.map((r) => r.anon_id)).size).toBeGreaterThanOrEqual(20)
    const plans = new Map<string, Set<string>>()
    for (const r of signups) plans.set(r.props.plan ?? '', (plans.get(r.props.plan ?? '') ?? new Set()).add(r.anon_id))
    for (const plan of ['free', 'team']) expect(plans.get(plan)?.size ?? 0, plan).toBeGreaterThanOrEqual(5)
    // Signups from a campaign visit, so a goal under a campaign filter has data too.
    const campaignSignups = new Set([...visits.values()].filter((ev) => ev.some((e) => e.utm_campaign !== '') && ev.some((e) => e.name === 'signup')).map((ev) => ev[0]!.anon_id))
    expect(campaignSignups.size).toBeGreaterThanOrEqual(5)

    const pageviews = [...visits.values()].map((events) => events.filter((e) => e.type === 'pageview').sort((a, b) => (a.ts < b.ts ? -1 : 1)))
    const bounces = pageviews.filter((p) => p.length === 1).length / pageviews.length
    expect(bounces).toBeGreaterThan(0.2)
    expect(bounces).toBeLessThan(0.7)
    const entries = new Set(pageviews.map((p) => p[0]?.url_path))
    const exits = new Set(pageviews.map((p) => p.at(-1)?.url_path))
    expect(entries.size).toBeGreaterThanOrEqual(5)
    expect(pageviews.filter((p) => p.length > 1 && p[0]!.url_path !== p.at(-1)!.url_path).length).toBeGreaterThan(100)
    expect([...exits].some((x) => !entries.has(x))).toBe(true)
  })

  it('carries no raw IP: addresses only as sealed values for the demo org and site', () => {
    const json = JSON.stringify(messages)
    for (const ip of ALL_IPS) expect(json.includes(`"${ip}"`) || new RegExp(`[^\\w.:]${ip.replaceAll('.', '\\.')}[^\\w.:]`).test(json), ip).toBe(false)
    for (const e of envelopes.slice(0, 50)) expect(ALL_IPS).toContain(openIp(e.ip_sealed, keyring, context))
    expect(() => openIp(envelopes[0]!.ip_sealed, keyring, { orgId: 'other', siteId: 'demo' })).toThrow()
  })
})

describe('traffic profiles', () => {
  it('each address maps to its region in the shipped CC0 database', async () => {
    const geo = await openGeo()
    for (const region of REGIONS) for (const ip of region.ips) expect(geo.country(ip), ip).toBe(region.country)
  })

  it('each user agent parses to its device class', () => {
    for (const device of DEVICES) for (const [ua] of device.agents) expect(parseUserAgent(ua).device_type, ua).toBe(device.device)
  })
})

describe('publishInChunks', () => {
  const sample = () => demoTraffic({ ...options, visitors: 100 })

  it('publishes everything in bounded chunks and counts events and receipts', async () => {
    const sizes: number[] = []
    const result = await publishInChunks({ publish: async (ms) => void sizes.push(ms.length) }, sample(), { chunkSize: 40 })
    const all = [...sample()]
    expect(result).toMatchObject({ messages: all.length, complete: true })
    expect(result.events).toBe(all.reduce((n, m) => n + (m.kind === 'events' ? m.events.length : 0), 0))
    expect(result.receipts).toBe(all.filter((m) => m.kind === 'consent').length)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(40)
  })

  it('stops between chunks once aborted', async () => {
    const abort = new AbortController()
    let calls = 0
    const result = await publishInChunks(
      {
        publish: async () => {
          if (++calls === 2) abort.abort()
        },
      },
      sample(),
      { chunkSize: 10, signal: abort.signal },
    )
    expect(calls).toBe(2)
    expect(result).toMatchObject({ messages: 20, complete: false })
  })
})
