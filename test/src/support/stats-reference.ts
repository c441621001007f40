import type { WireEvent } from '@atspark/schemas'

// What the stats API should answer, computed in plain TypeScript from the events a test sent:
// the oracle the end-to-end suite compares the warehouse's answers (rollup and raw) against.

export interface SentEvent {
  type: string
  name: string
  path: string
  ts: number
  anon: string
  session: string
  user: string
  bot: boolean
  referrer: string
  /** What enrichment derives from the request (user agent, client address): '' where the test did not say. */
  device: Device
}

/** The derived dimensions of an event, as the test knows them from the user agent and address it sent. */
export interface Device {
  browser: string
  os: string
  device_type: string
  country: string
}

export function sentEvents(events: readonly WireEvent[], bot = false, device: Partial<Device> = {}): SentEvent[] {
  return events.map((e) => ({
    type: e.t,
    name: e.n ?? '',
    path: e.u ? new URL(e.u).pathname : '',
    ts: e.ts,
    anon: e.a ?? '',
    session: e.s ?? '',
    user: e.uid ?? '',
    bot,
    referrer: e.r ? new URL(e.r).hostname : '',
    device: { browser: '', os: '', device_type: '', country: '', ...device },
  }))
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const pad = (n: number, w = 2) => String(n).padStart(w, '0')
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

function wall(ms: number, tz: string): { y: number; m: number; d: number; h: number; min: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(ms)
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value)
  return { y: get('year'), m: get('month'), d: get('day'), h: get('hour'), min: get('minute') }
}

/** The instant of a wall time `YYYY-MM-DD[THH:00]` in tz (the test's ranges avoid DST changes). */
export function instant(wallTime: string, tz: string): number {
  const asUtc = Date.parse(wallTime.length === 10 ? `${wallTime}T00:00:00Z` : `${wallTime.slice(0, 13)}:00:00Z`)
  const w = wall(asUtc, tz)
  const offset = Date.UTC(w.y, w.m - 1, w.d, w.h, w.min) - asUtc
  return asUtc - offset
}

export type Interval = 'hour' | 'day' | 'week' | 'month'

/** The label of an event's bucket: its UTC hour, read as wall time in tz, cut to the interval. */
export function bucketLabel(ts: number, interval: Interval, tz: string): string {
  const w = wall(Math.floor(ts / HOUR) * HOUR, tz)
  const date = `${w.y}-${pad(w.m)}-${pad(w.d)}`
  if (interval === 'hour') return `${date}T${pad(w.h)}:00:00`
  if (interval === 'day') return date
  if (interval === 'month') return `${w.y}-${pad(w.m)}-01`
  const day = Date.UTC(w.y, w.m - 1, w.d)
  return isoDay(day - ((new Date(day).getUTCDay() + 6) % 7) * DAY)
}

export interface Range {
  from: string
  to: string
  tz?: string
}

/** Events in the range by their hour (as the hourly rollup keeps them), no bots. */
function inRange(events: readonly SentEvent[], r: Range): SentEvent[] {
  const tz = r.tz ?? 'UTC'
  const [from, to] = [instant(r.from, tz), instant(r.to, tz)]
  return events.filter((e) => !e.bot && Math.floor(e.ts / HOUR) * HOUR >= from && Math.floor(e.ts / HOUR) * HOUR < to)
}

const distinct = (values: readonly string[]) => new Set(values.filter((v) => v !== '')).size

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item])
  return out
}

/** Bounce rate per bucket: sessions (all their events) whose first event falls in the bucket and that have a pageview. */
function bounces(events: readonly SentEvent[], r: Range & { interval: Interval }, k: number): Map<string, number | null> {
  const tz = r.tz ?? 'UTC'
  const [from, to] = [instant(r.from, tz), instant(r.to, tz)]
  const sessions = [...groupBy(events.filter((e) => !e.bot && e.session !== ''), (e) => e.session).values()]
    .map((evs) => [...evs].sort((a, b) => a.ts - b.ts))
    .filter((evs) => evs.some((e) => e.type === 'pageview'))
    .filter((evs) => {
      const hour = Math.floor((evs[0]?.ts ?? 0) / HOUR) * HOUR
      return hour >= from && hour < to
    })
  const out = new Map<string, number | null>()
  for (const [t, group] of groupBy(sessions, (evs) => bucketLabel(evs[0]?.ts ?? 0, r.interval, tz))) {
    const visitors = distinct(group.map((evs) => evs[0]?.anon ?? ''))
    out.set(t, visitors < k ? null : group.filter((evs) => evs.length === 1).length / group.length)
  }
  return out
}

/**
 * The timeseries answer; `bounce` as the request's bounce=true (without it, buckets carry no bounce_rate).
 * `bounceFrom`: the events whose sessions give the bounce rates, when not `events` (to model a bounce query reading other rows).
 */
export function timeseries(events: readonly SentEvent[], r: Range & { interval: Interval; bounce?: boolean; bounceFrom?: readonly SentEvent[] }, k: number) {
  const rates = bounces(r.bounceFrom ?? events, r, k)
  const withRate = <T extends object>(bucket: T, rate: number | null) => (r.bounce ? { ...bucket, bounce_rate: rate } : bucket)
  return [...groupBy(inRange(events, r), (e) => bucketLabel(e.ts, r.interval, r.tz ?? 'UTC')).entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([t, evs]) => {
      const visitors = distinct(evs.map((e) => e.anon))
      if (visitors < k) return withRate({ t, hidden: true, visitors: null, pageviews: null, events: null, sessions: null }, null)
      const bucket = {
        t,
        hidden: false,
        visitors,
        pageviews: evs.filter((e) => e.type === 'pageview').length,
        events: evs.length,
        sessions: distinct(evs.map((e) => e.session)),
      }
      return withRate(bucket, rates.get(t) ?? null)
    })
}

export type Dimension = 'url_path' | 'name' | 'referrer_host' | keyof Device

const dimensionValue: Record<Dimension, (e: SentEvent) => string> = {
  url_path: (e) => e.path,
  name: (e) => e.name,
  referrer_host: (e) => e.referrer,
  browser: (e) => e.device.browser,
  os: (e) => e.device.os,
  device_type: (e) => e.device.device_type,
  country: (e) => e.device.country,
}

/** Breakdown by one dimension: the top `limit` values with at least k visitors, then "other" when it has k. */
export function breakdown(events: readonly SentEvent[], r: Range, q: { dimension: Dimension; type?: string; limit: number }, k: number) {
  const evs = inRange(events, r).filter((e) => q.type === undefined || e.type === q.type)
  const value = dimensionValue[q.dimension]
  const rows = [...groupBy(evs, value).entries()]
    .map(([v, group]) => ({ value: v, visitors: distinct(group.map((e) => e.anon)), events: group.length }))
    .filter((row) => row.visitors >= k)
    .sort((a, b) => b.visitors - a.visitors || b.events - a.events || (a.value < b.value ? -1 : 1))
    .slice(0, q.limit)
  const rest = evs.filter((e) => !rows.some((row) => row.value === value(e)))
  const otherVisitors = distinct(rest.map((e) => e.anon))
  return { rows, other: otherVisitors >= k ? { visitors: otherVisitors, events: rest.length } : null }
}

export function adoption(events: readonly SentEvent[], r: Range & { interval: Interval }, feature: string, k: number) {
  const evs = inRange(events, r).filter((e) => e.type === 'feature' && e.name === feature)
  return [...groupBy(evs, (e) => bucketLabel(e.ts, r.interval, r.tz ?? 'UTC')).entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([t, group]) => {
      const accounts = distinct(group.map((e) => e.user))
      const visitors = distinct(group.map((e) => e.anon))
      return accounts < k || visitors < k
        ? { t, hidden: true, accounts: null, visitors: null, events: null }
        : { t, hidden: false, accounts, visitors, events: group.length }
    })
}

export interface Step {
  type: string | null
  value: string
}

const matches = (e: SentEvent, s: Step) =>
  s.type === null ? e.name === s.value : s.type === 'pageview' ? e.type === 'pageview' && e.path === s.value : e.type === s.type && e.name === s.value

/** The furthest step each visitor reaches in order, every step within `window` seconds of a first step; ties keep step order. */
export function funnel(events: readonly SentEvent[], r: Range, steps: readonly Step[], windowSeconds: number, k: number) {
  const tz = r.tz ?? 'UTC'
  const [from, to] = [instant(r.from, tz), instant(r.to, tz)]
  const evs = events.filter((e) => !e.bot && e.anon !== '' && e.ts >= from && e.ts < to)
  const levels = [...groupBy(evs, (e) => e.anon).values()].map((mine) => {
    const hits = mine.flatMap((e) => steps.flatMap((s, i) => (matches(e, s) ? [{ ts: e.ts, step: i }] : []))).sort((a, b) => a.ts - b.ts || a.step - b.step)
    let best = 0
    for (const start of hits.filter((h) => h.step === 0)) {
      let level = 1
      for (const h of hits) if (h.ts >= start.ts && h.ts <= start.ts + windowSeconds * 1000 && h.step === level && !(h === start)) level++
      best = Math.max(best, level)
    }
    return best
  })
  const out: { visitors: number | null; conversion: number | null }[] = []
  steps.forEach((_, i) => {
    const reached = levels.filter((l) => l > i).length
    const previous = i === 0 ? null : (out[i - 1]?.visitors ?? null)
    const shown = (i === 0 || previous !== null) && reached >= k ? reached : null
    out.push({ visitors: shown, conversion: shown !== null && previous !== null ? shown / previous : null })
  })
  return out
}

/** Cohorts of accounts by their first period of use in the range (UTC weeks or months) and their use in later periods. */
export function cohorts(events: readonly SentEvent[], r: Range, feature: string, interval: 'week' | 'month', k: number) {
  const [from, to] = [instant(r.from, 'UTC'), instant(r.to, 'UTC')]
  const uses = events.filter((e) => !e.bot && e.user !== '' && e.type === 'feature' && e.name === feature && e.ts >= from && e.ts < to)
  const period = (ms: number) => bucketLabel(ms, interval, 'UTC')
  const periods: string[] = []
  for (let t = from; t < to; t += DAY) if (!periods.includes(period(t))) periods.push(period(t))
  const byUser = groupBy(uses, (e) => e.user)
  const firsts = new Map([...byUser.entries()].map(([user, evs]) => [user, evs.map((e) => period(e.ts)).sort()[0] ?? '']))
  const cohortIds = [...new Set(firsts.values())].sort()
  return {
    periods,
    cohorts: cohortIds.map((cohort) => {
      const members = [...firsts.entries()].filter(([, first]) => first === cohort).map(([user]) => user)
      const hidden = members.length < k
      return {
        cohort,
        hidden,
        accounts: hidden ? null : members.length,
        retained: periods
          .filter((p) => p > cohort)
          .map((t, i) => {
            const n = members.filter((user) => (byUser.get(user) ?? []).some((e) => period(e.ts) === t)).length
            return { t, offset: i + 1, accounts: hidden || n < k ? null : n }
          }),
      }
    }),
  }
}

// ---------------------------------------------------------------------------------------------------------
// Issue 15: the analyst's questions. The same oracle idea, over richer events (utm tags, props, the page host),
// with the filter semantics of the contract: event-level clauses keep matching events; visit-level clauses keep
// every event of the visits whose value matches; a visit's values are those of its first event (entry page:
// first pageview, exit page: last pageview), each visit measured whole; an event without a session has no visit and
// no visit-level clause keeps it, `==` or `!=`.
// The stamped rule, stated: the processor writes a visit's source and entry page on each of its events, taken from the
// first event (by ts) and the first pageview it has seen of the visit; the values written first win. This suite sends
// each visit as one batch, so what it has seen is the whole visit and the rule is the visit's first event by ts here.
// exit_page is computed when asked. The guard's G2 and G3 treat the stamped values (all but exit_page) as event values.

export interface Utm {
  source: string
  medium: string
  campaign: string
  term: string
  content: string
}

/** An event as sent, with everything the analyst API may group or filter on that the test knows independently. */
export interface AnalystEvent extends SentEvent {
  /** The wire event id. */
  id: string
  org: string
  site: string
  host: string
  utm: Utm
  props: Record<string, string>
}

/** Tag values that could be personal data are not kept: an e-mail address, a long digit run, a long token. */
const PERSONAL = [/@/, /\d{6,}/, /^[A-Za-z0-9_-]{24,}$/]

/** utm_* of a page URL, as the processor keeps them: at most 100 characters, personal-looking values dropped. */
export function utmOf(url: URL): Utm {
  const get = (key: string) => {
    const v = (url.searchParams.get(`utm_${key}`) ?? '').slice(0, 100)
    return PERSONAL.some((re) => re.test(v)) ? '' : v
  }
  return { source: get('source'), medium: get('medium'), campaign: get('campaign'), term: get('term'), content: get('content') }
}

const SEARCH_HOSTS = /(^|\.)(google\.[a-z.]+|bing\.com|duckduckgo\.com|search\.yahoo\.com|ecosia\.org)$/
const SOCIAL_HOSTS = /(^|\.)(t\.co|twitter\.com|x\.com|facebook\.com|linkedin\.com|reddit\.com)$/
const SEARCH_SOURCES = /^(google|bing|duckduckgo|yahoo|ecosia)$/
const SOCIAL_SOURCES = /^(twitter|x|facebook|linkedin|reddit)$/

/**
 * An event's channel by the GA4 rules, for the hosts and tags the fixture uses (a known expectation per case:
 * google.com → Organic Search, utm_medium=cpc → Paid Search, t.co → Organic Social, utm_medium=email → Email,
 * the page's own host → Internal, nothing → Direct, any other site → Referral).
 */
export function channelOf(e: AnalystEvent): string {
  const medium = e.utm.medium.toLowerCase()
  const source = e.utm.source.toLowerCase()
  if (e.referrer !== '' && e.referrer === e.host) return 'Internal'
  const search = SEARCH_SOURCES.test(source) || (source === '' && SEARCH_HOSTS.test(e.referrer))
  const social = SOCIAL_SOURCES.test(source) || (source === '' && SOCIAL_HOSTS.test(e.referrer))
  if (/^(.*cp.*|ppc|retargeting|paid.*)$/.test(medium)) return search ? 'Paid Search' : social ? 'Paid Social' : 'Paid Other'
  if (/^(email|e-mail|e_mail|e mail)$/.test(medium) || /^(email|e-mail|e_mail|e mail)$/.test(source)) return 'Email'
  if (social || /^(social|social-network|social-media|sm|social network|social media)$/.test(medium)) return 'Organic Social'
  if (search || medium === 'organic') return 'Organic Search'
  if (e.referrer === '' && source === '' && medium === '') return 'Direct'
  return 'Referral'
}

export const EVENT_DIMENSIONS = ['url_path', 'referrer_host', 'country', 'browser', 'os', 'device_type', 'type', 'name'] as const
export const VISIT_DIMENSIONS = ['entry_page', 'exit_page', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const
export type VisitDimension = (typeof VISIT_DIMENSIONS)[number]
/** Every dimension: event-level, visit-level, `props.<key>`, and `goal` (filter: events completing it; breakdown: rows per goal). */
export type AnalystDimension = (typeof EVENT_DIMENSIONS)[number] | VisitDimension | `props.${string}` | 'goal'

export const isVisitDimension = (d: string): d is VisitDimension => (VISIT_DIMENSIONS as readonly string[]).includes(d)
/** The visit values the processor stamps on each event (every visit dimension but exit_page, known only at the visit's end). */
export const isStamped = (d: string): boolean => isVisitDimension(d) && d !== 'exit_page'

export interface Visit {
  session: string
  anon: string
  events: AnalystEvent[]
  entry_page: string
  exit_page: string
  channel: string
  utm: Utm
  /** Seconds from its first to its last event. */
  duration: number
  hasPageview: boolean
  /** One event in all, a pageview. */
  bounced: boolean
}

/** Each visit whole, from every event of its session given. */
export function visitsOf(events: readonly AnalystEvent[]): Map<string, Visit> {
  const out = new Map<string, Visit>()
  for (const [session, evs] of groupBy(
    events.filter((e) => e.session !== ''),
    (e) => e.session,
  )) {
    const sorted = [...evs].sort((a, b) => a.ts - b.ts)
    const first = sorted[0] as AnalystEvent
    const last = sorted[sorted.length - 1] as AnalystEvent
    const pageviews = sorted.filter((e) => e.type === 'pageview')
    out.set(session, {
      session,
      anon: first.anon,
      events: sorted,
      entry_page: pageviews[0]?.path ?? '',
      exit_page: pageviews[pageviews.length - 1]?.path ?? '',
      channel: channelOf(first),
      utm: first.utm,
      duration: (last.ts - first.ts) / 1000,
      hasPageview: pageviews.length > 0,
      bounced: sorted.length === 1 && first.type === 'pageview',
    })
  }
  return out
}

export interface Goal {
  name: string
  event?: string
  page?: string
}

/** A page goal's pattern: `**` any characters, `*` any characters but `/`, the rest literal. */
export function globToRegExp(pattern: string): RegExp {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    if (pattern.startsWith('**', i)) {
      re += '.*'
      i++
    } else if (pattern[i] === '*') re += '[^/]*'
    else re += (pattern[i] as string).replace(/[.+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** A goal by its configured name, or inline `event:<name>` / `page:<pattern>`. */
export function resolveGoal(goal: string, goals: readonly Goal[]): Goal {
  if (goal.startsWith('event:')) return { name: goal, event: goal.slice(6) }
  if (goal.startsWith('page:')) return { name: goal, page: goal.slice(5) }
  const found = goals.find((g) => g.name === goal)
  if (!found) throw new Error(`no goal ${goal}`)
  return found
}

/** An event goal is completed by any non-pageview event of that name; a page goal by a pageview of a matching path. */
export function completes(e: SentEvent, goal: Goal): boolean {
  if (goal.event !== undefined) return e.type !== 'pageview' && e.name === goal.event
  return e.type === 'pageview' && globToRegExp(goal.page ?? '').test(e.path)
}

export type FilterOp = '==' | '!=' | '=~' | '!~'
export interface Clause {
  dimension: string
  op: FilterOp
  values: string[]
}

/** Splits on a separator not escaped by a backslash, then unescapes `\|`, `\;` and `\\`. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string
    if (c === '\\' && i + 1 < s.length) {
      cur += c + (s[i + 1] as string)
      i++
    } else if (c === sep) {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  out.push(cur)
  return out
}
const unescapeValue = (s: string) => s.replace(/\\([|;\\])/g, '$1')

/** The Plausible v1 filter syntax: `dim==a|b;dim2!~c`. */
export function parseFilters(filters: string): Clause[] {
  if (filters === '') return []
  return splitEscaped(filters, ';').map((clause) => {
    const m = /^([A-Za-z0-9_.-]+?)(==|!=|=~|!~)(.*)$/s.exec(clause)
    if (!m) throw new Error(`not a clause: ${clause}`)
    return { dimension: m[1] as string, op: m[2] as FilterOp, values: splitEscaped(m[3] as string, '|').map(unescapeValue) }
  })
}

/** An event's value of an event-level dimension or a prop; a visit-level one comes from its visit. */
export function dimensionOf(e: AnalystEvent, dimension: string, visit: Visit | undefined): string {
  if (dimension.startsWith('props.')) return e.props[dimension.slice(6)] ?? ''
  switch (dimension) {
    case 'url_path':
      return e.path
    case 'referrer_host':
      return e.referrer
    case 'country':
    case 'browser':
    case 'os':
    case 'device_type':
      return e.device[dimension]
    case 'type':
      return e.type
    case 'name':
      return e.name
    case 'entry_page':
    case 'exit_page':
    case 'channel':
      return visit?.[dimension] ?? ''
    case 'utm_source':
    case 'utm_medium':
    case 'utm_campaign':
    case 'utm_term':
    case 'utm_content':
      return visit?.utm[dimension.slice(4) as keyof Utm] ?? ''
  }
  throw new Error(`not a dimension: ${dimension}`)
}

function clauseKeeps(e: AnalystEvent, c: Clause, visits: Map<string, Visit>, goals: readonly Goal[]): boolean {
  if (c.dimension === 'goal') {
    const hit = c.values.some((g) => completes(e, resolveGoal(g, goals)))
    return c.op === '!=' || c.op === '!~' ? !hit : hit
  }
  // No visit, no visit value: neither == nor != keeps an event without a session.
  if (isVisitDimension(c.dimension) && e.session === '') return false
  const v = dimensionOf(e, c.dimension, visits.get(e.session))
  switch (c.op) {
    case '==':
      return c.values.includes(v)
    case '!=':
      return !c.values.includes(v)
    case '=~':
      return c.values.some((x) => v.toLowerCase().includes(x.toLowerCase()))
    case '!~':
      return !c.values.some((x) => v.toLowerCase().includes(x.toLowerCase()))
  }
}

export interface Scope {
  org: string
  site: string
  from: string
  to: string
  tz?: string
}

/** The key's org and site, the range by event hour (as raw reads bucket), no bots. */
export function scoped(events: readonly AnalystEvent[], s: Scope): AnalystEvent[] {
  return inRange(
    events.filter((e) => e.org === s.org && e.site === s.site),
    s,
  ) as AnalystEvent[]
}

export interface Filtered {
  kept: AnalystEvent[]
  visits: Map<string, Visit>
  /** Events every positive clause (==, =~) keeps: what a raw read narrows to before the negative clauses apply. */
  positive: AnalystEvent[]
  /** Per `!=`/`!~` clause: the events it alone removes (every other clause keeps them), whose visitors a difference would single out. */
  removed: AnalystEvent[][]
  /** Differencing could single out 1 to k−1 visitors of the whole range (see `differenced`): an answer hidden whole. */
  complementHidden: boolean
  /** The in-range events the filters were applied to, the clauses and the goals: what `differenced` reads. */
  events: readonly AnalystEvent[]
  clauses: Clause[]
  goals: readonly Goal[]
}

const NEGATIVE = new Set<FilterOp>(['!=', '!~'])

/**
 * Applies the filters to in-scope events; the complement of each `!=`/`!~` clause is measured under the other clauses.
 * `whole`: every event of the scope's org and site whatever its time, so a visit across the range's edge is seen whole.
 */
export function applyFilters(events: readonly AnalystEvent[], filters: string, goals: readonly Goal[], k: number, whole: readonly AnalystEvent[] = events): Filtered {
  const clauses = parseFilters(filters)
  const visits = visitsOf(whole.filter((e) => !e.bot))
  const keep = (e: AnalystEvent, cs: readonly Clause[]) => cs.every((c) => clauseKeeps(e, c, visits, goals))
  const kept = events.filter((e) => keep(e, clauses))
  const positive = events.filter((e) => keep(e, clauses.filter((c) => !NEGATIVE.has(c.op))))
  const removed = clauses.flatMap((c, i) => {
    if (!NEGATIVE.has(c.op)) return []
    const others = clauses.filter((_, j) => j !== i)
    return [events.filter((e) => keep(e, others) && !clauseKeeps(e, c, visits, goals))]
  })
  const f: Filtered = { kept, visits, positive, removed, complementHidden: false, events, clauses, goals }
  f.complementHidden = differenced(f, k)
  return f
}

/**
 * Whether two filtered answers over the same range could be differenced to single out 1 to k−1 visitors (anon ids),
 * counted from the in-range events: for each clause (and `extra`, e.g. a breakdown's type), under every other clause,
 * - G1: the visitors of the events this clause drops;
 * - G2: for an `==`/`!=` list of two or more values (not goals; visit-level lists too, as the rule says): each value's visitors;
 * - G3: for an event-level, prop or stamped visit-level `=~`/`!~` (not exit_page): the values it matches with 1 to k−1 visitors
 *   each, their visitors together.
 */
export function differenced(f: Filtered, k: number, extra: readonly Clause[] = []): boolean {
  const clauses = [...f.clauses, ...extra]
  if (f.clauses.length === 0) return false
  const keeps = (e: AnalystEvent, c: Clause) => clauseKeeps(e, c, f.visits, f.goals)
  const few = (evs: readonly AnalystEvent[]) => {
    const n = distinct(evs.map((e) => e.anon))
    return n >= 1 && n < k
  }
  const valueIn = (e: AnalystEvent, c: Clause) => dimensionOf(e, c.dimension, f.visits.get(e.session))
  return clauses.some((c, j) => {
    const others = f.events.filter((e) => clauses.every((o, i) => i === j || keeps(e, o)))
    if (few(others.filter((e) => !keeps(e, c)))) return true
    if ((c.op === '==' || c.op === '!=') && c.values.length > 1 && c.dimension !== 'goal') {
      if (c.values.some((v) => few(others.filter((e) => valueIn(e, c) === v)))) return true
    }
    if ((c.op === '=~' || c.op === '!~') && c.dimension !== 'goal' && (!isVisitDimension(c.dimension) || isStamped(c.dimension))) {
      const matched = others.filter((e) => keeps(e, { ...c, op: '=~' }))
      const small = [...groupBy(matched, (e) => valueIn(e, c)).values()].filter((g) => distinct(g.map((e) => e.anon)) < k)
      if (few(small.flat())) return true
    }
    return false
  })
}

/** Whether some negative clause removed 1 to k−1 visitors among the events `within` selects (a row, a bucket, the range). */
export function singlesOut(f: Filtered, k: number, within: (e: AnalystEvent) => boolean = () => true): boolean {
  return f.removed.some((evs) => {
    const n = distinct(evs.filter(within).map((e) => e.anon))
    return n >= 1 && n < k
  })
}

/**
 * A filtered timeseries from raw events: a bucket for every hour (cut to the interval) that events passing the positive
 * clauses fall in; counts over the kept events; hidden under k visitors, when a negative clause removed 1 to k−1
 * visitors of that bucket, or all of them when the range could be differenced (`differenced`).
 */
export function filteredTimeseries(f: Filtered, r: Range & { interval: Interval }, k: number) {
  const tz = r.tz ?? 'UTC'
  const label = (e: SentEvent) => bucketLabel(e.ts, r.interval, tz)
  const labels = [...new Set(f.positive.map(label))].sort()
  return labels.map((t) => {
    const evs = f.kept.filter((e) => label(e) === t)
    const visitors = distinct(evs.map((e) => e.anon))
    if (f.complementHidden || visitors < k || singlesOut(f, k, (e) => label(e) === t)) return { t, hidden: true, visitors: null, pageviews: null, events: null, sessions: null }
    return { t, hidden: false, visitors, pageviews: evs.filter((e) => e.type === 'pageview').length, events: evs.length, sessions: distinct(evs.map((e) => e.session)) }
  })
}

/** Filtered adoption of a feature: per bucket of the feature's events, hidden under k accounts or visitors, or when singled out by a complement. */
export function filteredAdoption(f: Filtered, r: Range & { interval: Interval }, feature: string, k: number) {
  const tz = r.tz ?? 'UTC'
  const isFeature = (e: SentEvent) => e.type === 'feature' && e.name === feature
  const label = (e: SentEvent) => bucketLabel(e.ts, r.interval, tz)
  const labels = [...new Set(f.positive.filter(isFeature).map(label))].sort()
  return labels.map((t) => {
    const evs = f.kept.filter((e) => isFeature(e) && label(e) === t)
    const accounts = distinct(evs.map((e) => e.user))
    const visitors = distinct(evs.map((e) => e.anon))
    return f.complementHidden || accounts < k || visitors < k || singlesOut(f, k, (e) => isFeature(e) && label(e) === t)
      ? { t, hidden: true, accounts: null, visitors: null, events: null }
      : { t, hidden: false, accounts, visitors, events: evs.length }
  })
}

export interface MetricValues {
  visitors: number | null
  visits: number | null
  pageviews: number | null
  events: number | null
  views_per_visit: number | null
  bounce_rate: number | null
  visit_duration_median: number | null
  visit_duration_mean: number | null
  conversions?: number | null
  conversion_rate?: number | null
}

/** A count of visitors: shown at k or more, and 0 (which singles nobody out); null between. */
const shownCount = (n: number, k: number) => (n === 0 || n >= k ? n : null)

/** The median as an interpolating quantile reads it: the mean of the two middle values of an even count. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** The aggregate of kept events: counts over kept events, visit metrics over the visits they touch, each visit whole. */
export function metrics(f: Filtered, k: number, goal?: Goal): { hidden: boolean; metrics: MetricValues } {
  const visitors = distinct(f.kept.map((e) => e.anon))
  const touched = [...new Set(f.kept.map((e) => e.session).filter((s) => s !== ''))].map((s) => f.visits.get(s) as Visit)
  const withPageview = touched.filter((v) => v.hasPageview)
  const durations = touched.map((v) => v.duration)
  const pageviews = f.kept.filter((e) => e.type === 'pageview').length
  const conversions = goal ? distinct(f.kept.filter((e) => completes(e, goal)).map((e) => e.anon)) : 0
  const hidden = visitors < k || f.complementHidden
  const values: MetricValues = {
    visitors,
    visits: touched.length,
    pageviews,
    events: f.kept.length,
    views_per_visit: touched.length === 0 ? null : pageviews / touched.length,
    bounce_rate: distinct(withPageview.map((v) => v.anon)) < k || withPageview.length === 0 ? null : withPageview.filter((v) => v.bounced).length / withPageview.length,
    visit_duration_median: median(durations),
    visit_duration_mean: durations.length === 0 ? null : durations.reduce((a, b) => a + b, 0) / durations.length,
    ...(goal ? { conversions: shownCount(conversions, k), conversion_rate: shownCount(conversions, k) === null || visitors === 0 ? null : conversions / visitors } : {}),
  }
  if (!hidden) return { hidden, metrics: values }
  const nulls = Object.fromEntries(Object.keys(values).map((key) => [key, null])) as unknown as MetricValues
  return { hidden, metrics: nulls }
}

const RATES = new Set(['bounce_rate', 'conversion_rate'])

/** compare=previous_period: each metric's value, previous and change (points for rates, relative for the rest). */
export function compared(current: MetricValues, previous: MetricValues): Record<string, { value: number | null; previous: number | null; change: number | null }> {
  return Object.fromEntries(
    Object.entries(current).map(([key, value]) => {
      const prev = (previous as unknown as Record<string, number | null>)[key] ?? null
      const change = value === null || prev === null ? null : RATES.has(key) ? value - prev : prev === 0 ? null : (value - prev) / prev
      return [key, { value, previous: prev, change }]
    }),
  )
}

export interface BreakdownRowRef {
  value: string
  visitors: number
  events: number
  visits?: number
  conversions?: number | null
  conversion_rate?: number | null
}

/**
 * A breakdown of kept events by any dimension (a visit-level one by each event's visit), or by goal (one row per
 * configured goal: its converted visitors and completions); rows under k, or of which a negative clause removed 1 to
 * k−1 visitors, are never named; "other" likewise.
 */
export function analystBreakdown(f: Filtered, q: { dimension: AnalystDimension; type?: string; limit: number; goal?: Goal; goals: readonly Goal[] }, k: number) {
  // Under filters, `type` is one more clause the differencing guard counts; an answer it would leak is hidden whole.
  if (differenced(f, k, q.type === undefined ? [] : [{ dimension: 'type', op: '==', values: [q.type] }])) return { rows: [], other: null }
  // A visit dimension's rows are visits' values: only events with a session have one.
  const evs = f.kept.filter((e) => (q.type === undefined || e.type === q.type) && !(isVisitDimension(q.dimension) && e.session === ''))
  const groups: [string, AnalystEvent[]][] =
    q.dimension === 'goal'
      ? q.goals.map((g) => [g.name, evs.filter((e) => completes(e, g))])
      : [...groupBy(evs, (e) => dimensionOf(e, q.dimension, f.visits.get(e.session))).entries()]
  const row = (value: string, group: AnalystEvent[]): BreakdownRowRef => {
    const visitors = distinct(group.map((e) => e.anon))
    const out: BreakdownRowRef = { value, visitors, events: group.length }
    if (isVisitDimension(q.dimension)) out.visits = distinct(group.map((e) => e.session))
    return q.goal ? { ...out, ...goalCells(group, q.goal, visitors, k) } : out
  }
  const inType = (e: AnalystEvent) => q.type === undefined || e.type === q.type
  const goalOf = (name: string) => q.goals.find((g) => g.name === name) as Goal
  const inRow = (value: string) => (e: AnalystEvent) =>
    inType(e) && (q.dimension === 'goal' ? completes(e, goalOf(value)) : dimensionOf(e, q.dimension, f.visits.get(e.session)) === value)
  // A row is named only from k visitors and when no negative clause removed 1 to k−1 of its visitors.
  const rows = groups
    .map(([value, group]) => row(value, group))
    .filter((r) => r.visitors >= k && !singlesOut(f, k, inRow(r.value)))
    .sort((a, b) => b.visitors - a.visitors || b.events - a.events || (a.value < b.value ? -1 : 1))
    .slice(0, q.limit)
  const named = new Set(rows.map((r) => r.value))
  const rest = groups.filter(([value]) => !named.has(value)).flatMap(([, group]) => group)
  const otherVisitors = distinct(rest.map((e) => e.anon))
  const inOther = (e: AnalystEvent) => inType(e) && !named.has(dimensionOf(e, q.dimension, f.visits.get(e.session)))
  const otherExtras = {
    ...(isVisitDimension(q.dimension) ? { visits: distinct(rest.map((e) => e.session)) } : {}),
    ...(q.goal ? goalCells(rest, q.goal, otherVisitors, k) : {}),
  }
  // Other is not shown either when any one value folded into it lost 1 to k−1 visitors to a negative clause.
  const otherSafe = () => {
    const folded = [...new Set(f.removed.flat().filter(inOther).map((e) => dimensionOf(e, q.dimension, f.visits.get(e.session))))]
    return !singlesOut(f, k, inOther) && !folded.some((v) => singlesOut(f, k, inRow(v)))
  }
  const other = q.dimension !== 'goal' && otherVisitors >= k && otherSafe() ? { visitors: otherVisitors, events: rest.length, ...otherExtras } : null
  return { rows, other }
}

function goalCells(group: readonly AnalystEvent[], goal: Goal, visitors: number, k: number) {
  const conversions = shownCount(distinct(group.filter((e) => completes(e, goal)).map((e) => e.anon)), k)
  return { conversions, conversion_rate: conversions === null || visitors === 0 ? null : conversions / visitors }
}

const MINUTE = 60_000

/** /realtime: 30 minute buckets by event time ending at the current minute (each null under k visitors, 0 shown), visitors of the last 5 minutes. */
export function realtime(events: readonly SentEvent[], now: number, k: number) {
  const humans = events.filter((e) => !e.bot)
  const current = Math.floor(now / MINUTE) * MINUTE
  const shown = (evs: readonly SentEvent[]) => evs.length === 0 || distinct(evs.map((e) => e.anon)) >= k
  const minutes = Array.from({ length: 30 }, (_, i) => {
    const start = current - (29 - i) * MINUTE
    const evs = humans.filter((e) => e.ts >= start && e.ts < start + MINUTE)
    return { t: new Date(start).toISOString().slice(0, 16), events: shown(evs) ? evs.length : null, visitors: shown(evs) ? distinct(evs.map((e) => e.anon)) : null }
  })
  const recent = humans.filter((e) => e.ts >= now - 5 * MINUTE && e.ts < current + MINUTE)
  const visitors5m = shown(recent) ? distinct(recent.map((e) => e.anon)) : null
  return { visitors_5m: visitors5m, hidden: visitors5m === null, minutes }
}

/**
 * /realtime/integration over the events received in its window: bots exactly per type and name; humans' total
 * only from k visitors; a human name's count only from k visitors, and the smallest shown one hidden too when
 * the hidden names together come from 1 to k−1 visitors (the total minus the shown names must not reveal them).
 */
export function integration(received: readonly SentEvent[], k: number) {
  const order = (a: { type: string; name: string; events: number }, b: { type: string; name: string; events: number }) =>
    b.events - a.events || a.type.localeCompare(b.type) || a.name.localeCompare(b.name)
  const names = (evs: readonly SentEvent[]) =>
    [...groupBy(evs, (e) => `${e.type}\u0000${e.name}`).values()].map((g) => ({ type: g[0]?.type ?? '', name: g[0]?.name ?? '', events: g.length, visitors: distinct(g.map((e) => e.anon)), group: g }))
  const humans = received.filter((e) => !e.bot)
  const bots = received.filter((e) => e.bot)
  const totalShown = humans.length === 0 || distinct(humans.map((e) => e.anon)) >= k
  const all = names(humans)
  const shown = all.filter((n) => n.visitors >= k).sort(order)
  const hidden = all.filter((n) => n.visitors < k)
  const restVisitors = distinct(hidden.flatMap((n) => n.group.map((e) => e.anon)))
  if (totalShown && humans.length > 0 && restVisitors > 0 && restVisitors < k && shown.length > 0) {
    const smallest = [...shown].sort((a, b) => a.visitors - b.visitors || a.events - b.events || order(b, a))[0]
    if (smallest) {
      shown.splice(shown.indexOf(smallest), 1)
      hidden.push(smallest)
    }
  }
  hidden.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))
  return {
    humans: {
      events: totalShown ? humans.length : null,
      hidden: !totalShown,
      by_name: [...shown.map((n) => ({ type: n.type, name: n.name, events: n.events as number | null })), ...hidden.map((n) => ({ type: n.type, name: n.name, events: null }))],
    },
    bots: { events: bots.length, by_name: names(bots).sort(order).map((n) => ({ type: n.type, name: n.name, events: n.events })) },
  }
}

/**
 * bounce=true under filters: per shown bucket, the visits with a kept event that have a pageview, each in the bucket of
 * its first event and measured whole; bounced ones (one event, a pageview) over them; null from fewer than k visitors.
 */
export function filteredBounceRates(f: Filtered, buckets: readonly { t: string; hidden: boolean }[], r: Range & { interval: Interval }, k: number): (number | null)[] {
  const touched = [...new Set(f.kept.map((e) => e.session).filter((s) => s !== ''))].map((s) => f.visits.get(s) as Visit).filter((v) => v.hasPageview)
  const byBucket = groupBy(touched, (v) => bucketLabel(v.events[0]?.ts ?? 0, r.interval, r.tz ?? 'UTC'))
  return buckets.map((b) => {
    const visits = byBucket.get(b.t) ?? []
    if (b.hidden || visits.length === 0 || distinct(visits.map((v) => v.anon)) < k) return null
    return visits.filter((v) => v.bounced).length / visits.length
  })
}
