import type { BusMessage, ConsentSource, Envelope, WireEvent } from '@atspark/schemas'
import { Prng } from './prng.js'
import {
  DEVICES,
  type DeviceProfile,
  HOUR_WEIGHTS,
  PLANS,
  PRODUCT_SITE,
  QUERIES,
  REGIONS,
  type RegionProfile,
  type SiteProfile,
  type TrafficSource,
  WEEKDAY_WEIGHTS,
} from './traffic-profiles.js'

export interface DemoTrafficOptions {
  orgId: string
  siteId: string
  /** The site's origin, e.g. the demo page's `http://localhost:3000`; page URLs are built on it. */
  siteUrl: string
  /** Traffic ends before this instant (epoch ms); days are UTC days ending with today's. */
  now: number
  /** Seals a client address for this org and site, exactly as ingest does. */
  seal: (ip: string) => string
  visitors?: number
  days?: number
  seed?: number
  policyRevision?: string
  /** What visitors do on this site; default the demo product's. */
  profile?: SiteProfile
}

export const DEMO_TRAFFIC_DEFAULTS = { visitors: 3_000, days: 30, seed: 20_240_601, policyRevision: '1' } as const

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
/** An envelope never carries more events than ingest would accept in one batch. */
const MAX_EVENTS_PER_ENVELOPE = 100

export type ConsentChoice = { kind: 'none' } | { kind: 'grant' | 'refuse'; source: ConsentSource; preferences: boolean }

/** Human visitors' consent: most never touch the opt-out banner; refusals and browser signals send no analytics at all. */
const CONSENT_CHOICES: readonly (readonly [ConsentChoice, number])[] = [
  [{ kind: 'none' }, 52],
  [{ kind: 'grant', source: 'banner', preferences: true }, 18],
  [{ kind: 'grant', source: 'banner', preferences: false }, 8],
  [{ kind: 'grant', source: 'api', preferences: true }, 3],
  [{ kind: 'refuse', source: 'banner', preferences: false }, 8],
  [{ kind: 'refuse', source: 'banner', preferences: true }, 3],
  [{ kind: 'refuse', source: 'api', preferences: false }, 2],
  [{ kind: 'refuse', source: 'gpc', preferences: false }, 5],
  [{ kind: 'refuse', source: 'dnt', preferences: false }, 1],
]

interface Visitor {
  prng: Prng
  region: RegionProfile
  device: DeviceProfile
  ua: string
  ip: string
  screen: readonly [number, number]
  locale: string
  tz: string
  anonId: string
  /** Client clock error, ms: the processor's sent_at/received_at correction cancels it. */
  skew: number
  account?: { uid: string; plan: string; features: string[] }
}

/** One generated visitor: the consent they chose and every bus message they caused, in order. */
export interface DemoVisit {
  consent: ConsentChoice
  messages: BusMessage[]
}

/**
 * Realistic demo traffic, deterministic for a seed and `now`: visitors over the last `days` UTC
 * days with a weekly and daily rhythm, arriving from search, social, e-mail, other sites, direct
 * or tagged campaign links, sessions of a few pageviews with clicks, signups, queries,
 * dashboards and feature use by signed-in accounts, and consent receipts. Yields bus messages
 * lazily (one visitor at a time), so memory stays bounded whatever the volume. Addresses only
 * leave through `seal`.
 */
export function* demoTraffic(options: DemoTrafficOptions): Generator<BusMessage> {
  for (const visit of demoVisits(options)) yield* visit.messages
}

/** The same traffic visitor by visitor, so a test can check what each consent choice caused. */
export function* demoVisits(options: DemoTrafficOptions): Generator<DemoVisit> {
  const visitors = options.visitors ?? DEMO_TRAFFIC_DEFAULTS.visitors
  const days = options.days ?? DEMO_TRAFFIC_DEFAULTS.days
  const seed = options.seed ?? DEMO_TRAFFIC_DEFAULTS.seed
  const policyRevision = options.policyRevision ?? DEMO_TRAFFIC_DEFAULTS.policyRevision
  const profile = options.profile ?? PRODUCT_SITE
  const firstDay = Math.floor(options.now / DAY_MS) * DAY_MS - (days - 1) * DAY_MS
  // Later days weigh a little more: a product whose traffic grows.
  const dayWeights = Array.from({ length: days }, (_, i) => [i, WEEKDAY_WEIGHTS[new Date(firstDay + i * DAY_MS).getUTCDay()]! * (0.8 + (0.4 * i) / days)] as const)
  const root = new Prng(seed)

  for (let v = 0; v < visitors; v++) {
    const visitor = newVisitor(new Prng(root.int(1, 0xffff_ffff)), v)
    const { prng } = visitor
    const bot = visitor.device.device === 'bot'
    const consent: ConsentChoice = bot ? { kind: 'none' } : prng.weighted(CONSENT_CHOICES)
    const messages: BusMessage[] = []
    const firstDayIndex = prng.weighted(dayWeights)
    // Accounts come back often; anonymous visitors mostly once.
    const sessions = bot ? 1 : visitor.account ? prng.int(3, 9) : prng.chance(0.3) ? prng.int(2, 4) : 1
    let dayIndex = firstDayIndex
    for (let s = 0; s < sessions && dayIndex < days; s++) {
      const dayStart = firstDay + dayIndex * DAY_MS
      const start = dayStart + localHourToUtcMs(prng, visitor.region) + prng.int(0, HOUR_MS - 1)
      if (s === 0 && consent.kind !== 'none') {
        const at = start + prng.int(1_500, 20_000)
        if (at + 1_000 < options.now) messages.push(receipt(options, prng, visitor, consent, at, policyRevision))
      }
      // Refusals and browser signals stop analytics before any event is sent.
      if (consent.kind === 'refuse') break
      messages.push(...sessionMessages(options, profile, visitor, start, policyRevision))
      dayIndex += prng.int(1, visitor.account ? 5 : 9)
    }
    yield { consent, messages }
  }

  function newVisitor(prng: Prng, index: number): Visitor {
    const region = prng.weighted(REGIONS.map((r) => [r, r.weight] as const))
    const device = prng.weighted(DEVICES.map((d) => [d, d.weight] as const))
    const isAccount = device.device !== 'bot' && prng.chance(profile.accountShare)
    return {
      prng,
      region,
      device,
      ua: prng.weighted(device.agents),
      ip: prng.pick(region.ips),
      screen: prng.pick(device.screens),
      locale: prng.pick(region.locales),
      tz: prng.pick(region.timezones),
      anonId: `${prng.hex(8)}-${prng.hex(12)}`,
      skew: prng.chance(0.12) ? prng.int(-120_000, 120_000) : prng.int(-400, 400),
      ...(isAccount
        ? {
            account: {
              uid: `demo-user-${index + 1}`,
              plan: prng.weighted(PLANS),
              features: profile.features.filter(([, share]) => prng.chance(share)).map(([name]) => name),
            },
          }
        : {}),
    }
  }
}

function localHourToUtcMs(prng: Prng, region: RegionProfile): number {
  const localHour = prng.weighted(HOUR_WEIGHTS.map((w, h) => [h, w] as const))
  return ((((localHour - region.utcOffset) % 24) + 24) % 24) * HOUR_MS
}

function receipt(options: DemoTrafficOptions, prng: Prng, visitor: Visitor, consent: Exclude<ConsentChoice, { kind: 'none' }>, at: number, policyRevision: string): BusMessage {
  const sentAt = at + prng.int(20, 400)
  return {
    v: 1,
    kind: 'consent',
    org_id: options.orgId,
    site_id: options.siteId,
    received_at: sentAt + prng.int(5, 120),
    receipt: {
      v: 1,
      id: prng.uuid(),
      ts: at + visitor.skew,
      sa: sentAt + visitor.skew,
      a: consent.kind === 'grant',
      p: consent.preferences,
      src: consent.source,
      r: policyRevision,
    },
  }
}

/** One session: pageviews along a plausible path, with the interactions each page invites. */
function* sessionMessages(options: DemoTrafficOptions, profile: SiteProfile, visitor: Visitor, start: number, policyRevision: string): Generator<BusMessage> {
  const { prng, account } = visitor
  const bot = visitor.device.device === 'bot'
  const sessionId = prng.hex(16)
  const events: WireEvent[] = []
  let at = start
  const base = (): Omit<WireEvent, 'id' | 't' | 'ts'> => ({
    a: visitor.anonId,
    s: sessionId,
    ...(account ? { uid: account.uid } : {}),
    ...(bot ? {} : { sw: visitor.screen[0], sh: visitor.screen[1], l: visitor.locale, tz: visitor.tz }),
  })
  const add = (event: Omit<WireEvent, 'id' | 'ts' | 'a' | 's' | 'uid' | 'sw' | 'sh' | 'l' | 'tz'>, gapMs: number) => {
    at += gapMs
    events.push({ id: prng.uuid(), ts: at + visitor.skew, ...base(), ...event })
  }

  // Bounce-heavy for anonymous visitors, long crawls for bots, working sessions for accounts.
  const pages = bot ? prng.int(3, 12) : account ? prng.int(2, 7) : prng.chance(0.42) ? 1 : prng.int(2, 5)
  const source: TrafficSource = bot || (account && prng.chance(0.7)) ? {} : prng.weighted(profile.sources)
  let path = bot ? '/' : (source.landing ?? (account ? prng.weighted(profile.appPages) : prng.weighted(profile.entryPages)))
  // The landing page's URL keeps the link's tags (events on it report location.href); the SDK strips the referrer's query.
  let url = `${options.siteUrl}${path}${source.tags ? `?${source.tags}` : ''}`
  for (let i = 0; i < pages; i++) {
    if (i > 0) {
      const next = i === 1 && source.next && prng.chance(0.5) ? source.next : prng.weighted(bot ? profile.browsePages : account ? profile.appPages : profile.browsePages)
      if (next === path) continue
      path = next
      url = `${options.siteUrl}${path}`
    }
    add({ t: 'pageview', u: url, ...(i === 0 && source.referrer ? { r: source.referrer } : {}) }, i === 0 ? 0 : prng.int(5_000, 90_000))
    if (bot) continue
    const labels = profile.clicks[path]
    if (labels && prng.chance(0.35)) add({ t: 'click', n: prng.pick(labels), u: url, p: { tag: prng.chance(0.7) ? 'button' : 'a' } }, prng.int(2_000, 25_000))
    const dashboard = profile.dashboards[path]
    if (dashboard) add({ t: 'dashboard', n: dashboard, u: url, p: { widgets: prng.int(3, 12) } }, prng.int(300, 2_000))
    if (path === '/reports' && account) {
      for (let q = prng.int(1, 3); q > 0; q--) {
        add({ t: 'query', n: prng.weighted(QUERIES), u: url, p: { rows: prng.int(1, 5_000), ms: prng.int(15, 2_500) } }, prng.int(4_000, 40_000))
      }
    }
    // The product's Signup goal (demo tenants): a custom event with the chosen plan as a prop.
    if (path === '/signup' && prng.chance(0.45)) add({ t: 'custom', n: 'signup', u: url, p: { plan: prng.weighted(PLANS) } }, prng.int(20_000, 120_000))
  }
  if (account && account.features.length > 0) {
    for (let f = prng.int(0, 2); f > 0; f--) {
      add({ t: 'feature', n: prng.pick(account.features), u: url, p: { plan: account.plan } }, prng.int(3_000, 60_000))
    }
  }

  for (let i = 0; i < events.length; i += MAX_EVENTS_PER_ENVELOPE) {
    const chunk = events.slice(i, i + MAX_EVENTS_PER_ENVELOPE)
    const lastTs = chunk[chunk.length - 1]!.ts - visitor.skew
    const sentAt = lastTs + prng.int(100, 3_000)
    const receivedAt = sentAt + prng.int(5, 120)
    // Today's sessions still in the future are not sent yet.
    if (receivedAt >= options.now) return
    const envelope: Envelope = {
      v: 1,
      kind: 'events',
      org_id: options.orgId,
      site_id: options.siteId,
      received_at: receivedAt,
      sent_at: sentAt + visitor.skew,
      ip_sealed: options.seal(visitor.ip),
      ua: visitor.ua,
      policy_revision: policyRevision,
      events: chunk,
    }
    yield envelope
  }
}
