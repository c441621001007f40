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
