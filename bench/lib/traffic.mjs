// Deterministic, realistic traffic: visitors with a spread of real-world user agents (bots included) and public
// IPv4/IPv6 addresses, and the SDK's wire batches they send. The same seed gives the same bytes, so a service and
// its ceiling receive identical bodies.
import { createHash, randomInt } from 'node:crypto'

/** mulberry32: small, fast, seedable; good enough to pick traffic. */
export function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = (rand, xs) => xs[Math.floor(rand() * xs.length)]
const between = (rand, lo, hi) => lo + Math.floor(rand() * (hi - lo + 1))

function weighted(rand, entries) {
  const total = entries.reduce((s, [, w]) => s + w, 0)
  let r = rand() * total
  for (const [v, w] of entries) {
    r -= w
    if (r < 0) return v
  }
  return entries[entries.length - 1][0]
}

/** A UUID v4 from the generator, so event ids are valid and reproducible. */
// Every event object opens with its id (wireEvent below), whose first 8 hex digits a pass can then rewrite.
const ID_HEAD = /\{"id":"[0-9a-f]{8}/g

/**
 * For one load run: `(body, pass)` → the pooled body with event ids of that pass's own, its number (from a random
 * start, so other runs against the same pipeline differ too) in the ids' first 8 hex digits. A pipeline that stores
 * events drops repeated ids (SDK retries), so a pool sent twice must not repeat them.
 */
export function freshIdPasses() {
  const first = randomInt(2 ** 32 - 2 ** 20)
  return (body, pass) => body.replace(ID_HEAD, `{"id":"${(first + pass).toString(16).padStart(8, '0')}`)
}

function uuid(rand) {
  const h = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16))
  h[12] = '4'
  h[16] = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16)
  const s = h.join('')
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
}

function firefox(rand, platform) {
  const v = between(rand, 115, 133)
  return `Mozilla/5.0 (${platform}; rv:${v}.0) Gecko/20100101 Firefox/${v}.0`
}

const ANDROID_MODELS = ['K', 'SM-S918B', 'SM-A546B', 'Pixel 8', 'Pixel 7a', '2201116SG', 'CPH2449', 'moto g power (2022)']

/** User-agent families with their share of traffic; versions vary, so there are hundreds of distinct strings. */
const UA_FAMILIES = [
  [(r) => `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${between(r, 118, 131)}.0.0.0 Safari/537.36`, 28],
  [(r) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${between(r, 118, 131)}.0.0.0 Safari/537.36`, 11],
  [
    (r) => {
      const v = between(r, 118, 131)
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.0.0 Safari/537.36 Edg/${v}.0.${between(r, 2000, 2900)}.${between(r, 10, 99)}`
    },
    8,
  ],
  [(r) => firefox(r, 'Windows NT 10.0; Win64; x64'), 5],
  [(r) => firefox(r, 'X11; Linux x86_64'), 2],
  [(r) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${between(r, 16, 18)}.${between(r, 0, 6)} Safari/605.1.15`, 8],
  [
    (r) => {
      const [a, b] = [between(r, 15, 18), between(r, 0, 6)]
      return `Mozilla/5.0 (iPhone; CPU iPhone OS ${a}_${b} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${a}.${b} Mobile/15E148 Safari/604.1`
    },
    15,
  ],
  [
    (r) => `Mozilla/5.0 (iPad; CPU OS ${between(r, 15, 18)}_${between(r, 0, 6)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1`,
    2,
  ],
  [
    (r) =>
      `Mozilla/5.0 (Linux; Android ${between(r, 10, 14)}; ${pick(r, ANDROID_MODELS)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${between(r, 118, 131)}.0.0.0 Mobile Safari/537.36`,
    12,
  ],
  [
    (r) =>
      `Mozilla/5.0 (Linux; Android 14; ${pick(r, ANDROID_MODELS)}) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/${between(r, 22, 26)}.0 Chrome/${between(r, 115, 125)}.0.0.0 Mobile Safari/537.36`,
    3,
  ],
  [
    (r) =>
      pick(r, [
        'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
        'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
        'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36',
        'python-requests/2.32.3',
        'curl/8.5.0',
      ]),
    3,
  ],
]

/** First octets of widely allocated public IPv4 space (no private, loopback, CGNAT, multicast or reserved /8s). */
const V4_FIRST = [1, 2, 5, 8, 12, 13, 23, 24, 31, 37, 41, 46, 49, 62, 66, 72, 77, 78, 80, 81, 82, 84, 85, 86, 88, 89, 90, 91, 92, 93, 94, 95]
  .concat([98, 99, 103, 104, 106, 109, 110, 112, 114, 116, 118, 121, 122, 125, 133, 138, 139, 142, 146, 151, 152, 154, 157, 162, 170, 176, 177])
  .concat([178, 179, 180, 182, 183, 185, 186, 187, 188, 189, 190, 193, 194, 195, 196, 197, 200, 201, 202, 203, 210, 212, 213, 217, 218, 220, 223])
/** Global unicast IPv6 prefixes of large networks (ISPs, mobile carriers, clouds). */
const V6_PREFIXES = ['2a00:1450', '2001:4860', '2606:4700', '2a02:8108', '2600:1700', '2003:e2', '2a01:e0a', '240e:3b7', '2405:201', '2804:14c', '2001:56a', '2a02:c7c']

function publicIp(rand) {
  if (rand() < 0.18) {
    const groups = Array.from({ length: 4 }, () => Math.floor(rand() * 0x10000).toString(16))
    return `${pick(rand, V6_PREFIXES)}:${between(rand, 0, 0xfff).toString(16)}::${groups.join(':')}`
  }
  return `${pick(rand, V4_FIRST)}.${between(rand, 0, 255)}.${between(rand, 0, 255)}.${between(rand, 1, 254)}`
}

const LOCALES = [
  ['en-US', 'America/New_York'],
  ['en-US', 'America/Los_Angeles'],
  ['en-GB', 'Europe/London'],
  ['de-DE', 'Europe/Berlin'],
  ['fr-FR', 'Europe/Paris'],
  ['es-ES', 'Europe/Madrid'],
  ['pt-BR', 'America/Sao_Paulo'],
  ['ja-JP', 'Asia/Tokyo'],
  ['en-IN', 'Asia/Kolkata'],
  ['nl-NL', 'Europe/Amsterdam'],
]
const SCREENS = [
  [1920, 1080],
  [1440, 900],
  [1536, 864],
  [2560, 1440],
  [390, 844],
  [412, 915],
  [820, 1180],
]
const PATHS = ['/', '/dashboards', '/dashboards/:id', '/queries/:id', '/reports/:id', '/settings/billing', '/settings/team', '/explore', '/alerts', '/docs/:id']
const REFERRERS = ['', '', '', 'https://www.google.com/search?q=atspark', 'https://news.ycombinator.com/', 'https://duckduckgo.com/', 'https://app.example.com/']
const FEATURES = ['csv_export', 'dark_mode', 'sql_editor', 'alerts', 'sharing', 'scheduled_reports']

/** `count` visitors; each keeps one UA, address, locale, screen and (for 30%) a signed-in user id. */
export function visitors(count, seed = 1) {
  const rand = prng(seed)
  return Array.from({ length: count }, (_, i) => {
    const [locale, tz] = pick(rand, LOCALES)
    const [sw, sh] = pick(rand, SCREENS)
    return {
      anon: `a_${seed}_${i}_${Math.floor(rand() * 1e9).toString(36)}`,
      session: `s_${seed}_${i}_${Math.floor(rand() * 1e9).toString(36)}`,
      ua: weighted(rand, UA_FAMILIES)(rand),
      ip: publicIp(rand),
      locale,
      tz,
      sw,
      sh,
      uid: rand() < 0.3 ? `user_${between(rand, 1, 50_000)}` : undefined,
    }
  })
}

/** One wire event of `visitor`, shaped like the SDK's (short keys), with a realistic type mix. */
function wireEvent(rand, visitor, ts) {
  const t = weighted(rand, [
    ['pageview', 40],
    ['click', 28],
    ['feature', 10],
    ['custom', 10],
    ['query', 7],
    ['dashboard', 5],
  ])
  const path = pick(rand, PATHS).replace(':id', String(between(rand, 1, 999)))
  const e = {
    id: uuid(rand),
    t,
    ts,
    a: visitor.anon,
    s: visitor.session,
    u: `https://app.example.com${path}${rand() < 0.3 ? `?tab=${between(rand, 1, 5)}` : ''}`,
    sw: visitor.sw,
    sh: visitor.sh,
    l: visitor.locale,
    tz: visitor.tz,
  }
  if (visitor.uid) e.uid = visitor.uid
  if (t === 'pageview') {
    const r = pick(rand, REFERRERS)
    if (r) e.r = r
  } else if (t === 'click') {
    e.n = pick(rand, ['cta_clicked', 'nav_open', 'save', 'share', 'filter_applied'])
    e.p = { label: pick(rand, ['Start', 'Save', 'Share', 'Next']), section: pick(rand, ['header', 'sidebar', 'main']) }
  } else if (t === 'feature') {
    e.n = pick(rand, FEATURES)
    e.p = { plan: pick(rand, ['free', 'pro', 'enterprise']), first_use: rand() < 0.2 }
  } else if (t === 'query') {
    e.n = `q_${between(rand, 1, 300)}`
    e.p = { rows: between(rand, 0, 10_000), ms: between(rand, 5, 4000) }
  } else if (t === 'dashboard') {
    e.n = `d_${between(rand, 1, 80)}`
  } else {
    e.n = pick(rand, ['signup_step', 'invite_sent', 'export_done'])
    e.p = { step: between(rand, 1, 4), ok: rand() < 0.9, note: null }
  }
  return e
}

/**
 * `count` POST /v1/batch requests of `eventsPerBody` events each, one visitor per request (as the SDK sends), with
 * the visitor's User-Agent and address (X-Forwarded-For: the services trust loopback as their proxy).
 */
export function requests({ count, eventsPerBody, seed = 7, writeKey, origin, visitorCount = 5_000, now = Date.now() }) {
  const rand = prng(seed ^ 0x9e3779b9)
  const people = visitors(visitorCount, seed)
  const out = new Array(count)
  for (let i = 0; i < count; i++) {
    const v = people[Math.floor(rand() * people.length)]
    const sentAt = now - 200
    const events = Array.from({ length: eventsPerBody }, (_, k) => wireEvent(rand, v, sentAt - (eventsPerBody - k) * 150))
    out[i] = {
      body: JSON.stringify({ v: 1, k: writeKey, sa: sentAt, c: { a: true, p: false, r: '1' }, e: events }),
      headers: { 'content-type': 'application/json', origin, 'user-agent': v.ua, 'x-forwarded-for': v.ip },
    }
  }
  return out
}

/**
 * Envelopes as ingest hands them to the bus (one visitor's accepted batch, stamped and with a sealed address),
 * for feeding the processor without HTTP.
 */
export function envelopes({ count, eventsPerEnvelope, seed = 11, orgId, siteId, seal, now = Date.now() }) {
  const rand = prng(seed ^ 0x85ebca6b)
  const people = visitors(5_000, seed)
  return Array.from({ length: count }, () => {
    const v = people[Math.floor(rand() * people.length)]
    const sentAt = now - 200
    return {
      v: 1,
      kind: 'events',
      org_id: orgId,
      site_id: siteId,
      received_at: now,
      sent_at: sentAt,
      ip_sealed: seal(v.ip),
      ua: v.ua.slice(0, 512),
      policy_revision: '1',
      events: Array.from({ length: eventsPerEnvelope }, (_, k) => wireEvent(rand, v, sentAt - (eventsPerEnvelope - k) * 150)),
    }
  })
}

/** A short digest of the bodies, printed so two targets can be seen to have received the same bytes. */
export function digest(reqs) {
  const h = createHash('sha256')
  for (const r of reqs) h.update(r.body)
  return h.digest('hex').slice(0, 12)
}
