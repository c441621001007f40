import { createHash, randomBytes } from 'node:crypto'
import type { WireEvent } from '@atspark/schemas'
import { CHROME_WINDOWS_UA, HEADLESS_UA, IPHONE_UA } from './batches.js'
import type { SeededRandom } from './seeded-random.js'
import { type AnalystEvent, type Device, utmOf } from './stats-reference.js'
import { seededUuid } from './test-seed.js'

// The analyst suite's traffic: visits as a browser's SDK would send them (one batch per visit, the visit's
// user agent and address), for two orgs with the same site id, the same anon ids and the same session ids.
// Group sizes are fixed (exactly k−1 and k on chosen values, one visitor alone on a unique combination);
// minutes, gaps between pages and the sending order come from the suite's seed.

export const K = 5
export const SITE = 'web'
/** The page host of both orgs' site: a referrer on this host is an in-site navigation. */
export const HOST = 'www.shop.example'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const TODAY = Math.floor(Date.now() / DAY) * DAY
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** The analysed range: two whole UTC days, ending two days before today (nothing of today's realtime traffic in it). */
export const DAYS = { d1: TODAY - 4 * DAY, d2: TODAY - 3 * DAY, p1: TODAY - 6 * DAY, p2: TODAY - 5 * DAY }
export const RANGE = { from: isoDay(DAYS.d1), to: isoDay(DAYS.d2 + DAY) }
/** The same length immediately before RANGE: compare=previous_period reads it. */
export const PREVIOUS = { from: isoDay(DAYS.p1), to: isoDay(DAYS.d1) }
/** Both periods: a range wide enough for cohorts and for the readiness check. */
export const WIDE = { from: isoDay(DAYS.p1), to: isoDay(DAYS.d2 + DAY) }

export type Org = 'a' | 'b'
export const ORGS: readonly Org[] = ['a', 'b']
export const ORG_ID: Record<Org, string> = { a: 'org-a', b: 'org-b' }
export const ORIGIN: Record<Org, string> = { a: 'http://a.localhost:3995', b: 'http://b.localhost:3995' }
export const WRITE_KEY: Record<Org, string> = { a: 'pk_analyst_a_web', b: 'pk_analyst_b_web' }
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
export const KEYS: Record<Org, string> = { a: newKey(), b: newKey() }
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** Goals of both orgs' site: an event goal and a page goal whose `*` stops at `/` (/pricing/team does not complete it). */
export const GOALS = [
  { name: 'Signup', event: 'signup' },
  { name: 'Pricing', page: '/pricing*' },
] as const

export const TENANTS = {
  orgs: ORGS.map((org) => ({
    id: ORG_ID[org],
    name: org.toUpperCase(),
    api_keys: [{ id: `${org}-analyst`, hash: sha256(KEYS[org]), role: 'analyst' }],
    sites: [{ id: SITE, write_key: WRITE_KEY[org], allowed_origins: [ORIGIN[org]], consent_mode: 'opt-out', goals: GOALS }],
  })),
}

export interface Client {
  ua: string
  ip: string
  /** What enrichment makes of the user agent and the address (checked against the API by the suite). */
  device: Device
}

const FIREFOX_LINUX_UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const SAFARI_MAC_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15'
const GOOGLEBOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
const chrome = { browser: 'Chrome', os: 'Windows', device_type: 'desktop' }
const firefox = { browser: 'Firefox', os: 'Linux', device_type: 'desktop' }

// Addresses the shipped country database places in GB, DE, US, FR and JP.
export const CLIENTS = {
  chromeGB: { ua: CHROME_WINDOWS_UA, ip: '81.2.69.142', device: { ...chrome, country: 'GB' } },
  chromeUS: { ua: CHROME_WINDOWS_UA, ip: '8.8.8.8', device: { ...chrome, country: 'US' } },
  chromeDE: { ua: CHROME_WINDOWS_UA, ip: '195.20.224.1', device: { ...chrome, country: 'DE' } },
  firefoxDE: { ua: FIREFOX_LINUX_UA, ip: '85.214.132.117', device: { ...firefox, country: 'DE' } },
  firefoxJP: { ua: FIREFOX_LINUX_UA, ip: '133.242.0.3', device: { ...firefox, country: 'JP' } },
  iphoneUS: { ua: IPHONE_UA, ip: '151.101.1.1', device: { browser: 'Mobile Safari', os: 'iOS', device_type: 'mobile', country: 'US' } },
  safariFR: { ua: SAFARI_MAC_UA, ip: '212.27.48.10', device: { browser: 'Safari', os: 'Mac OS', device_type: 'desktop', country: 'FR' } },
  googlebot: { ua: GOOGLEBOT_UA, ip: '8.8.4.4', device: { browser: '', os: '', device_type: 'bot', country: 'US' } },
  headless: { ua: HEADLESS_UA, ip: '81.2.69.160', device: { browser: 'Chrome Headless', os: 'Linux', device_type: 'bot', country: 'GB' } },
} as const satisfies Record<string, Client>
export type ClientName = keyof typeof CLIENTS
const BOTS: ReadonlySet<ClientName> = new Set(['googlebot', 'headless'])

/** Something a visitor does on a page after viewing it. */
export interface Action {
  t: WireEvent['t']
  n: string
  p?: Record<string, string>
  uid?: string
}

/** One visit: a landing page (with its query), an external referrer or none, then in-site pages, each with optional actions. */
export interface VisitPlan {
  org: Org
  visitor: number
  tag: string
  client: ClientName
  start: number
  landing: string
  referrer?: string
  pages: string[]
  /** Actions per page index (0 = landing). */
  actions?: Record<number, Action[]>
  /** Seconds before each later page, where a visit must cross a range's edge (else seeded). */
  gaps?: number[]
}

/** A visit as sent: its wire events (oldest first) and the client that sent them. */
export interface SentVisit {
  plan: VisitPlan
  events: WireEvent[]
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/**
 * Org A's traffic (site web; K = 5), in the range:
 * - google: v0–v6 (7) Chrome/GB from google.com, landing /, then /pricing + /docs (v0–v4, who also use feature
 *   export signed in) or /pricing/team (v5, v6); v0–v2 come back on day 2 directly on /docs → /docs/api.
 * - cpc: v10–v14 (exactly k) Firefox/DE, utm google/cpc/spring, landing /pricing, then /signup + signup (plan=pro).
 * - tco: v20–v23 (k−1) iPhone/US from t.co, one pageview of /blog/post-1 (bounces).
 * - email: v30–v35 (6) Safari/FR, newsletter referrer, utm newsletter/email/weekly with an e-mail address as utm_content,
 *   landing /, then /pricing, /signup + signup (plan=free).
 * - direct: v40–v44 (k) Chrome/US, one pageview of / (bounces).
 * - partner: v50–v53 (k−1) Chrome/DE from blog.partner.example, /docs → /docs/api + download (plan=pro).
 * - lone: v60, Firefox/JP from lonely.example with utm lonely/referral/solo, /lonely → /pricing → /signup + signup
 *   (plan=enterprise): alone on JP, on its referrer, utm_source, entry page /lonely and plan=enterprise; with the
 *   partner visitors exactly k on channel Referral.
 * - bots: Googlebot and a headless Chrome, on /pricing (utm google/cpc) and /signup with signup (plan=pro): never counted.
 * - edges: v121 lands on /blog/post-1 90 s before the range starts and reaches /pricing inside it; v120 lands on / from
 *   google a minute before the range ends and reads /docs and /pricing after it: both measured whole.
 * Previous period: v0–v5 (6) from google (/ → /pricing), v70–v72 (3) direct bounces.
 * Org B (the same site id, anon ids and session ids): v0–v8 from t.co (utm twitter/social/spring, /pricing → /signup +
 * signup plan=pro, feature export); v20–v23 from google on /blog/post-1 → /pricing; v60–v64 Firefox/JP like A’s lone visitor (so a
 * leak of B's rows would lift A's isolated visitor to k); a few of each of A's kinds (cpc DE, email FR, a direct bounce,
 * a partner visit); previous period v0–v9.
 */
/** Visits of one kind, before they get their org, their visitor and their seeded start (a minute of `hour` on `day`). */
type Group = Omit<VisitPlan, 'org' | 'visitor' | 'start'> & { day: number; hour: number; perVisitor?: (v: number) => Partial<VisitPlan> }

export function visitPlans(rnd: SeededRandom): VisitPlan[] {
  const at = (day: number, hour: number) => day + hour * HOUR + (1 + rnd.int(40)) * MIN + rnd.int(60_000)
  const plans: VisitPlan[] = []
  const add = (visitors: number[], p: Group & { org: Org }) => {
    const { day, hour, perVisitor, ...rest } = p
    for (const v of visitors) plans.push({ ...rest, visitor: v, start: at(day, hour), ...perVisitor?.(v) })
  }
  const { d1, d2, p1, p2 } = DAYS
  const google = 'https://www.google.com/search?q=shop'
  // The kinds both orgs have (org B a few of each), so a leak of B's rows would move every answer the suite checks.
  const cpc: Group = {
    tag: 'd1',
    client: 'firefoxDE',
    day: d1,
    hour: 14,
    landing: '/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=analytics',
    referrer: google,
    pages: ['/signup'],
    actions: { 1: [{ t: 'custom', n: 'signup', p: { plan: 'pro' } }] },
  }
  const email: Group = {
    tag: 'd2',
    client: 'safariFR',
    day: d2,
    hour: 15,
    landing: '/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly&utm_content=someone%40example.com',
    referrer: 'https://newsletter.example.org/issue/12',
    pages: ['/pricing', '/signup'],
    actions: { 2: [{ t: 'custom', n: 'signup', p: { plan: 'free' } }] },
  }
  const direct: Group = { tag: 'd1', client: 'chromeUS', day: d1, hour: 16, landing: '/', pages: [] }
  const partner: Group = {
    tag: 'd1',
    client: 'chromeDE',
    day: d1,
    hour: 12,
    landing: '/docs',
    referrer: 'https://blog.partner.example/posts/7',
    pages: ['/docs/api'],
    actions: { 1: [{ t: 'custom', n: 'download', p: { plan: 'pro' } }] },
  }
  const lone: Group = {
    tag: 'd2',
    client: 'firefoxJP',
    day: d2,
    hour: 12,
    landing: '/lonely?utm_source=lonely&utm_medium=referral&utm_campaign=solo',
    referrer: 'https://lonely.example/',
    pages: ['/pricing', '/signup'],
    actions: { 2: [{ t: 'custom', n: 'signup', p: { plan: 'enterprise' } }] },
  }
  // Org A, the range.
  add(range(0, 7), {
    org: 'a',
    tag: 'd1',
    client: 'chromeGB',
    day: d1,
    hour: 10,
    landing: '/',
    referrer: google,
    pages: [],
    perVisitor: (v) =>
      v < 5 ? { pages: ['/pricing', '/docs'], actions: { 2: [{ t: 'feature', n: 'export', uid: `u${v}@shop.example` }] } } : { pages: ['/pricing/team'] },
  })
  add(range(0, 3), {
    org: 'a',
    tag: 'd2',
    client: 'chromeGB',
    day: d2,
    hour: 11,
    landing: '/docs',
    pages: ['/docs/api'],
    perVisitor: (v) => ({ actions: { 1: [{ t: 'feature', n: 'export', uid: `u${v}@shop.example` }] } }),
  })
  add(range(10, 15), { org: 'a', ...cpc })
  add(range(20, 24), { org: 'a', tag: 'd2', client: 'iphoneUS', day: d2, hour: 9, landing: '/blog/post-1', referrer: 'https://t.co/x1y2z3', pages: [] })
  add(range(30, 36), { org: 'a', ...email })
  add(range(40, 45), { org: 'a', ...direct })
  add(range(50, 54), { org: 'a', ...partner })
  add([60], { org: 'a', ...lone })
  add(range(100, 103), {
    org: 'a',
    tag: 'd1',
    client: 'googlebot',
    day: d1,
    hour: 14,
    landing: '/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring',
    referrer: google,
    pages: ['/pricing/team'],
  })
  add(range(103, 106), {
    org: 'a',
    tag: 'd2',
    client: 'headless',
    day: d2,
    hour: 12,
    landing: '/signup',
    pages: [],
    actions: { 0: [{ t: 'custom', n: 'signup', p: { plan: 'pro' } }] },
  })
  // Two visits across the range's edges, each to be measured whole: one from the previous period into day 1, one
  // from day 2 past the range's end.
  plans.push({ org: 'a', visitor: 121, tag: 'edge', client: 'chromeGB', start: d1 - 90_000, landing: '/blog/post-1', pages: ['/pricing'], gaps: [150] })
  plans.push({ org: 'a', visitor: 120, tag: 'edge', client: 'chromeGB', start: d2 + DAY - 60_000, landing: '/', referrer: google, pages: ['/docs', '/pricing'], gaps: [120, 30] })
  // Org A, the previous period.
  add(range(0, 6), { org: 'a', tag: 'p1', client: 'chromeGB', day: p1, hour: 10, landing: '/', referrer: google, pages: ['/pricing'] })
  add(range(70, 73), { org: 'a', tag: 'p2', client: 'chromeUS', day: p2, hour: 16, landing: '/', pages: [] })
  // Org B: the same ids, other proportions.
  add(range(0, 9), {
    org: 'b',
    tag: 'd1b',
    client: 'iphoneUS',
    day: d1,
    hour: 13,
    landing: '/pricing?utm_source=twitter&utm_medium=social&utm_campaign=spring',
    referrer: 'https://t.co/q9',
    pages: ['/signup'],
    perVisitor: (v) => ({ actions: { 1: [{ t: 'custom', n: 'signup', p: { plan: 'pro' } }, { t: 'feature', n: 'export', uid: `u${v}@shop.example` }] } }),
  })
  add(range(20, 24), { org: 'b', tag: 'd2', client: 'chromeGB', day: d2, hour: 9, landing: '/blog/post-1', referrer: google, pages: ['/pricing'] })
  add(range(60, 65), { org: 'b', ...lone })
  add(range(10, 13), { org: 'b', ...cpc })
  // B's newsletter visitors carry no e-mail address in utm_content.
  add(range(30, 32), { org: 'b', ...email, landing: '/?utm_source=newsletter&utm_medium=email&utm_campaign=weekly' })
  add([40], { org: 'b', ...direct })
  add([50], { org: 'b', ...partner })
  add(range(0, 10), { org: 'b', tag: 'p1', client: 'chromeGB', day: p1, hour: 10, landing: '/', referrer: google, pages: [] })
  return plans
}

/** A visit's wire events: the landing pageview, each action a few seconds after its page, each later page after a seeded gap. */
export function visitEvents(plan: VisitPlan, rnd: SeededRandom): WireEvent[] {
  const out: WireEvent[] = []
  const paths = [plan.landing, ...plan.pages]
  let ts = plan.start
  paths.forEach((path, i) => {
    const gap = plan.gaps?.[i - 1]
    if (i > 0) ts += gap !== undefined ? gap * 1000 : (5 + rnd.int(300)) * 1000 + rnd.int(1000)
    const u = `https://${HOST}${path}`
    const r = i === 0 ? plan.referrer : `https://${HOST}${paths[i - 1]?.split('?')[0]}`
    const common = { a: `anon_v${plan.visitor}`, s: `sess_v${plan.visitor}_${plan.tag}`, u, ...(r === undefined ? {} : { r }), sw: 1440, sh: 900, l: 'en-GB', tz: 'UTC' }
    out.push({ id: seededUuid(rnd), t: 'pageview', ts, ...common })
    for (const action of plan.actions?.[i] ?? []) {
      ts += (1 + rnd.int(20)) * 1000
      out.push({ id: seededUuid(rnd), t: action.t, n: action.n, ts, ...common, ...(action.p ? { p: action.p } : {}), ...(action.uid ? { uid: action.uid } : {}) })
    }
  })
  return out
}

/** What the reference sees of a sent visit: the events with the dimensions enrichment derives and the org they belong to. */
export function analystEvents(visit: SentVisit): AnalystEvent[] {
  const client = CLIENTS[visit.plan.client]
  return visit.events.map((e) => {
    const page = new URL(e.u ?? `https://${HOST}/`)
    return {
      id: e.id,
      org: ORG_ID[visit.plan.org],
      site: SITE,
      type: e.t,
      name: e.n ?? '',
      ts: e.ts,
      anon: e.a ?? '',
      session: e.s ?? '',
      user: e.uid ? `${visit.plan.org}/${e.uid}` : '',
      bot: BOTS.has(visit.plan.client),
      path: page.pathname,
      host: page.hostname,
      referrer: e.r ? new URL(e.r).hostname : '',
      utm: utmOf(page),
      props: Object.fromEntries(Object.entries(e.p ?? {}).map(([key, v]) => [key, String(v)])),
      device: client.device,
    }
  })
}

/** Every visit of the fixture, in the seed's order. */
export function fixture(rnd: SeededRandom): { visits: SentVisit[]; events: AnalystEvent[] } {
  const visits = rnd.shuffle(visitPlans(rnd).map((plan) => ({ plan, events: visitEvents(plan, rnd) })))
  return { visits, events: visits.flatMap(analystEvents) }
}

/** Today's traffic for realtime: org A k visitors two minutes ago and k−1 ten minutes ago; org B 10 visitors a minute ago. */
export function realtimeVisits(rnd: SeededRandom, now: number): SentVisit[] {
  // Each group within one minute (its first 20 seconds), so the k−1 and k minutes stay whole.
  const minute = (ago: number) => Math.floor((now - ago * MIN) / MIN) * MIN + 1000 + rnd.int(20_000)
  const plans: VisitPlan[] = [
    ...range(80, 85).map((v) => ({ org: 'a' as const, visitor: v, tag: 'now', client: 'chromeGB' as const, start: minute(2), landing: '/', pages: [] })),
    ...range(90, 94).map((v) => ({ org: 'a' as const, visitor: v, tag: 'now', client: 'chromeUS' as const, start: minute(10), landing: '/', pages: [] })),
    ...range(80, 90).map((v) => ({ org: 'b' as const, visitor: v, tag: 'now', client: 'iphoneUS' as const, start: minute(1), landing: '/', pages: [] })),
    ...range(110, 112).map((v) => ({
      org: 'a' as const,
      visitor: v,
      tag: 'now',
      client: 'headless' as const,
      start: minute(3),
      landing: '/',
      pages: [],
      actions: { 0: [{ t: 'custom' as const, n: 'smoke-test' }] },
    })),
  ]
  return plans.map((plan) => ({ plan, events: visitEvents(plan, rnd) }))
}
