import { WAREHOUSE_DATABASE as DB, REALTIME_MINUTES, REALTIME_VISITORS_MINUTES, RealtimeQuery, RealtimeResponse, toWarehouseTime } from '@atspark/schemas'
import type { Hono } from 'hono'
import { parseQuery, type StatsEnv, type StatsRouteContext } from './context.js'
import { type BuiltQuery, type QueryLimits, settings } from './queries.js'

/**
 * Realtime: the last 30 minutes of human events by event time (`ts`), one bucket a minute, and the
 * distinct visitors of the last 5. Pure query builders and k rules; the route is registerRealtime.
 * Reads stay small on any warehouse: events are ordered by (org_id, site_id, toDate(ts), …), so the
 * day bound selects a day or two of one site's granules and the ts bound the minutes inside them.
 */

const MINUTE_MS = 60_000

export interface RealtimeWindow {
  /** Start of the oldest minute bucket (epoch ms). */
  from: number
  /** End of the current minute (exclusive). */
  to: number
  /** Start of the distinct-visitor window. */
  recent: number
}

export function realtimeWindow(now: number): RealtimeWindow {
  const current = Math.floor(now / MINUTE_MS) * MINUTE_MS
  return { from: current - (REALTIME_MINUTES - 1) * MINUTE_MS, to: current + MINUTE_MS, recent: now - REALTIME_VISITORS_MINUTES * MINUTE_MS }
}

/** `YYYY-MM-DD` of an instant, UTC: the events key's day. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** `YYYY-MM-DDTHH:MM` (UTC) of a minute. */
export const minuteLabel = (ms: number): string => new Date(ms).toISOString().slice(0, 16)

/** The key's day bounds plus the exact ts bounds, as one WHERE fragment over {org}, {site}, {day_from}, {day_to}, {from}, {to}. */
export const RECENT_EVENTS_WHERE = `org_id = {org:String} AND site_id = {site:String}
  AND toDate(ts) >= toDate({day_from:String}) AND toDate(ts) <= toDate({day_to:String})
  AND ts >= toDateTime64({from:String}, 3, 'UTC') AND ts < toDateTime64({to:String}, 3, 'UTC')`

/**
 * One row per minute that has human events (`part` 'minute', `m` = minute number since the epoch), and one
 * row (`part` 'recent') of the visitors of the last five minutes. Bots are never counted here.
 */
export function realtimeQuery(org: string, site: string, now: number, limits: QueryLimits): BuiltQuery {
  const w = realtimeWindow(now)
  const params = (from: number, suffix: string) => ({
    [`day_from${suffix}`]: utcDay(from),
    [`from${suffix}`]: toWarehouseTime(from),
  })
  return {
    query: `SELECT 'minute' AS part, intDiv(toUnixTimestamp64Milli(ts), 60000) AS m, count() AS n_events, uniqExactIf(anon_id, anon_id != '') AS n_visitors
FROM ${DB}.events
WHERE ${RECENT_EVENTS_WHERE} AND is_bot = 0
GROUP BY m
UNION ALL
SELECT 'recent' AS part, 0 AS m, count() AS n_events, uniqExactIf(anon_id, anon_id != '') AS n_visitors
FROM ${DB}.events
WHERE ${RECENT_EVENTS_WHERE.replaceAll('{day_from:String}', '{day_from_recent:String}').replaceAll('{from:String}', '{from_recent:String}')} AND is_bot = 0
${settings(limits)}`,
    query_params: { org, site, day_to: utcDay(w.to - 1), to: toWarehouseTime(w.to), ...params(w.from, ''), ...params(w.recent, '_recent') },
  }
}

export interface RealtimeRow {
  part: 'minute' | 'recent'
  m: number
  events: number
  visitors: number
}

/** A count is shown when at least k visitors are behind it, or nothing at all is (0 is shown as 0); else null. */
export const shownUnderK = (events: number, visitors: number, k: number): boolean => events === 0 || visitors >= k

/** Every one of the 30 minutes, oldest first, with its k rule; the headline visitors likewise. */
export function realtimeAnswer(rows: readonly RealtimeRow[], now: number, k: number): Pick<RealtimeResponse, 'now' | 'visitors_5m' | 'hidden' | 'minutes'> {
  const w = realtimeWindow(now)
  const byMinute = new Map(rows.filter((r) => r.part === 'minute').map((r) => [r.m, r]))
  const minutes = Array.from({ length: REALTIME_MINUTES }, (_, i) => {
    const start = w.from + i * MINUTE_MS
    const row = byMinute.get(start / MINUTE_MS)
    const [events, visitors] = [row?.events ?? 0, row?.visitors ?? 0]
    const shown = shownUnderK(events, visitors, k)
    return { t: minuteLabel(start), events: shown ? events : null, visitors: shown ? visitors : null }
  })
  const recent = rows.find((r) => r.part === 'recent')
  const visitors5m = shownUnderK(recent?.events ?? 0, recent?.visitors ?? 0, k) ? (recent?.visitors ?? 0) : null
  return { now: new Date(now).toISOString(), visitors_5m: visitors5m, hidden: visitors5m === null, minutes }
}

/** GET /realtime: the k-anonymous last half hour of one site. */
export function registerRealtime(app: Hono<StatsEnv>, ctx: StatsRouteContext): void {
  app.get('/realtime', async (c) => {
    const q = parseQuery(RealtimeQuery, c.req.query())
    const { org, site } = ctx.siteOf(c, q.site)
    const now = ctx.now()
    const raw = await ctx.rows<Record<string, string | number>>(realtimeQuery(org, site, now, ctx.limits))
    const rows = raw.map((r) => ({ part: r.part === 'recent' ? ('recent' as const) : ('minute' as const), m: Number(r.m), events: Number(r.n_events), visitors: Number(r.n_visitors) }))
    return c.json(RealtimeResponse.parse({ org_id: org, site, k: ctx.k, ...realtimeAnswer(rows, now, ctx.k) }))
  })
}
