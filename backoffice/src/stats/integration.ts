import { WAREHOUSE_DATABASE as DB, INTEGRATION_MAX_NAMES, INTEGRATION_WINDOW_MINUTES, IntegrationQuery, IntegrationResponse, toWarehouseTime } from '@atspark/schemas'
import type { Hono } from 'hono'
import { parseQuery, type StatsEnv, type StatsRouteContext } from './context.js'
import { type BuiltQuery, type QueryLimits, settings } from './queries.js'
import { utcDay } from './realtime.js'

/**
 * The integration view: what a site received in the last 30 minutes (by receipt time), per event type and
 * name, bots apart. Bots are counted exactly (no person is behind a headless browser); human counts keep
 * every k rule, including the one against differencing: the total minus the shown names must not reveal
 * what fewer than k visitors did.
 */

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
/**
 * Events are keyed by their own day (ts), not by receipt: a received event whose ts is older than this is
 * not read. Corrected ts never follows receipt, and a live page sends within seconds; only a queue replayed
 * days later falls outside, and the view is about what an install sends now.
 */
export const INTEGRATION_TS_LOOKBACK_DAYS = 2

const WHERE = `org_id = {org:String} AND site_id = {site:String}
  AND toDate(ts) >= toDate({day_from:String})
  AND received_at > toDateTime64({from:String}, 3, 'UTC') AND received_at <= toDateTime64({to:String}, 3, 'UTC')`
const VISITORS = "uniqExactIf(anon_id, anon_id != '')"

/**
 * Three parts: `name` rows (per audience, type and name; the most events first, at most INTEGRATION_MAX_NAMES
 * per audience), `total` rows per audience, and one `hidden` row: the human events of every (type, name)
 * with fewer than k visitors, merged so a visitor of several counts once. Columns are named by the first part;
 * the others must not alias `type` or `name`, which their WHERE would then read instead of the columns.
 */
export function integrationQuery(org: string, site: string, now: number, k: number, limits: QueryLimits): BuiltQuery {
  return {
    query: `SELECT * FROM (
  SELECT 'name' AS part, toUInt8(is_bot) AS bot, toString(type) AS type, name, count() AS n_events, ${VISITORS} AS n_visitors, '' AS last
  FROM ${DB}.events WHERE ${WHERE}
  GROUP BY bot, type, name
  ORDER BY n_events DESC, type ASC, name ASC
  LIMIT {max_names:UInt32} BY bot
)
UNION ALL
SELECT 'total' AS part, toUInt8(is_bot) AS bot, '' AS no_type, '' AS no_name, count() AS n_events, ${VISITORS} AS n_visitors, toString(max(received_at)) AS last
FROM ${DB}.events WHERE ${WHERE}
GROUP BY bot
UNION ALL
SELECT 'hidden' AS part, 0 AS bot, '' AS no_type, '' AS no_name, count() AS n_events, ${VISITORS} AS n_visitors, '' AS last
FROM ${DB}.events WHERE ${WHERE} AND is_bot = 0
  AND (type, name) IN (SELECT type, name FROM ${DB}.events WHERE ${WHERE} AND is_bot = 0 GROUP BY type, name HAVING ${VISITORS} < {k:UInt32})
${settings(limits)}`,
    query_params: {
      org,
      site,
      day_from: utcDay(now - INTEGRATION_WINDOW_MINUTES * MINUTE_MS - INTEGRATION_TS_LOOKBACK_DAYS * DAY_MS),
      from: toWarehouseTime(now - INTEGRATION_WINDOW_MINUTES * MINUTE_MS),
      to: toWarehouseTime(now),
      max_names: INTEGRATION_MAX_NAMES,
      k,
    },
  }
}

export interface IntegrationRow {
  part: 'name' | 'total' | 'hidden'
  bot: boolean
  type: string
  name: string
  events: number
  visitors: number
  /** Latest received_at of a total row (warehouse text), else ''. */
  last: string
}

type HumanName = { type: string; name: string; events: number | null }

const byEventsThenName = (a: { type: string; name: string; events: number }, b: { type: string; name: string; events: number }) =>
  b.events - a.events || a.type.localeCompare(b.type) || a.name.localeCompare(b.name)

/** `2026-12-08 02:05:54.123` → `2026-12-08T02:05:54Z`: to the second, as the view promises. */
export function toSecondIso(warehouseTime: string): string {
  return `${warehouseTime.slice(0, 10)}T${warehouseTime.slice(11, 19)}Z`
}

export function integrationAnswer(rows: readonly IntegrationRow[], k: number): Omit<IntegrationResponse, 'org_id' | 'site'> {
  const total = (bot: boolean) => rows.find((r) => r.part === 'total' && r.bot === bot)
  const names = (bot: boolean) => rows.filter((r) => r.part === 'name' && r.bot === bot)
  const humans = total(false)
  const bots = total(true)
  const lasts = [humans?.last, bots?.last].filter((l): l is string => !!l).sort()
  const last = lasts.at(-1)

  const humanEvents = humans?.events ?? 0
  const totalShown = humanEvents === 0 || (humans?.visitors ?? 0) >= k
  const shown = names(false)
    .filter((r) => r.visitors >= k)
    .sort(byEventsThenName)
  const hidden = names(false).filter((r) => r.visitors < k)
  // The shown total minus the shown names is what the hidden names did together: if fewer than k
  // visitors did that, the smallest shown name is hidden too, so the remainder covers at least k.
  const restVisitors = rows.find((r) => r.part === 'hidden')?.visitors ?? 0
  if (totalShown && humanEvents > 0 && restVisitors > 0 && restVisitors < k && shown.length > 0) {
    const smallest = [...shown].sort((a, b) => a.visitors - b.visitors || a.events - b.events || byEventsThenName(b, a))[0]
    if (smallest) {
      shown.splice(shown.indexOf(smallest), 1)
      hidden.push(smallest)
    }
  }
  // Hidden names by name only: their order must not tell their sizes.
  hidden.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name))
  const humanNames: HumanName[] = [
    ...shown.map((r) => ({ type: r.type, name: r.name, events: r.events })),
    ...hidden.map((r) => ({ type: r.type, name: r.name, events: null })),
  ]
  return {
    window_minutes: INTEGRATION_WINDOW_MINUTES,
    last_event_at: last ? toSecondIso(last) : null,
    humans: { events: totalShown ? humanEvents : null, hidden: !totalShown, by_name: humanNames },
    bots: { events: bots?.events ?? 0, by_name: names(true).sort(byEventsThenName).map((r) => ({ type: r.type, name: r.name, events: r.events })) },
  }
}

/** GET /realtime/integration: what an install sent in the last half hour, bots apart. */
export function registerIntegration(app: Hono<StatsEnv>, ctx: StatsRouteContext): void {
  app.get('/realtime/integration', async (c) => {
    const q = parseQuery(IntegrationQuery, c.req.query())
    const { org, site } = ctx.siteOf(c, q.site)
    const raw = await ctx.rows<Record<string, string | number>>(integrationQuery(org, site, ctx.now(), ctx.k, ctx.limits))
    const rows = raw.map((r) => ({
      part: String(r.part) as IntegrationRow['part'],
      bot: Number(r.bot) === 1,
      type: String(r.type),
      name: String(r.name),
      events: Number(r.n_events),
      visitors: Number(r.n_visitors),
      last: String(r.last ?? ''),
    }))
    return c.json(IntegrationResponse.parse({ org_id: org, site, ...integrationAnswer(rows, ctx.k) }))
  })
}
