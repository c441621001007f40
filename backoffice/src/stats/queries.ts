import { isRuntimeTimeZone, StatsErrorCode, type StatsDimension, type StatsInterval, type StatsSourceParam, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { RollupTable } from '@atspark/warehouse'
import { type CompiledFilters, differencingByVisit, differencingColumns, differencingRowCut, EVENT_COLUMNS, RANGE, rowForm } from './filters.js'
import { StatsRequestError } from './request-error.js'

export { StatsRequestError }

/** Pure query builders: SQL text built only from whitelisted identifiers; every value travels as a query parameter. */

export type { RollupTable }
/** A rollup, or the raw events (exact counts, only within the raw retention). */
export type StatsTable = RollupTable | 'events'

export interface BuiltQuery {
  query: string
  query_params: Record<string, unknown>
}

/** Query-scoped limits (a SETTINGS clause, not session settings: chDB keeps those for later queries). */
export interface QueryLimits {
  maxExecutionSeconds: number
  maxResultRows: number
}

export const DEFAULT_LIMITS: QueryLimits = { maxExecutionSeconds: 10, maxResultRows: 10_000 }

const DAY_MS = 86_400_000
/** Longest range any endpoint answers: the rollups' default retention. */
export const MAX_RANGE_DAYS = 800
/** Hour buckets only up to this range, so a timeseries stays a few hundred points. */
export const MAX_HOURLY_INTERVAL_DAYS = 31
export const DEFAULT_RANGE_DAYS = 30
/** Ranges up to this long read hourly states; longer UTC day-aligned ranges read daily ones. */
export const HOURLY_THRESHOLD_DAYS = 7

export interface ResolvedRange {
  from: string
  to: string
  tz: string
  days: number
}

export const isDay = (s: string) => s.length === 10

/** Wall time → epoch ms as if UTC: enough to measure a range, whatever the zone's offset. */
export function approxMs(s: string): number {
  return Date.parse(isDay(s) ? `${s}T00:00:00Z` : `${s.slice(0, 16)}:00Z`)
}

function dayString(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** from/to as given, or the default: the 30 days ending tomorrow (UTC), `to` exclusive. */
export function resolveRange(q: { from?: string | undefined; to?: string | undefined }, tz: string, now: number): ResolvedRange {
  if (!validTimeZone(tz)) throw new StatsRequestError('not a known IANA time zone', StatsErrorCode.invalidTimezone, 'tz')
  const to = q.to ?? dayString(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS)
  const toMs = approxMs(to)
  const from = q.from ?? dayString(toMs - DEFAULT_RANGE_DAYS * DAY_MS)
  const fromMs = approxMs(from)
  if (!Number.isFinite(fromMs)) throw new StatsRequestError('not a real date', StatsErrorCode.invalidDate, 'from')
  if (!Number.isFinite(toMs)) throw new StatsRequestError('not a real date', StatsErrorCode.invalidDate, 'to')
  if (fromMs >= toMs) throw new StatsRequestError('from must be before to', StatsErrorCode.invalidRange, 'from')
  const days = (toMs - fromMs) / DAY_MS
  if (days > MAX_RANGE_DAYS) throw new StatsRequestError(`ranges are at most ${MAX_RANGE_DAYS} days`, StatsErrorCode.invalidRange, 'from')
  return { from, to, tz, days }
}

/** The runtime's half of the time-zone check (the schema's); the engine's half is EngineTimeZones. */
export const validTimeZone = isRuntimeTimeZone

/** Daily states only answer whole UTC days over more than a week; everything else merges hourly ones. */
export function chooseRollup(range: ResolvedRange, interval: StatsInterval | undefined): RollupTable {
  const utc = range.tz === 'UTC' || range.tz === 'Etc/UTC'
  const wholeDays = isDay(range.from) && isDay(range.to)
  if (utc && wholeDays && interval !== 'hour' && range.days > HOURLY_THRESHOLD_DAYS) return 'rollup_dims_daily'
  return 'rollup_dims_hourly'
}

/** `raw` reads events; `auto` and `rollup` read the rollup chooseRollup picks (auto may choose differently one day). */
export function chooseSource(range: ResolvedRange, interval: StatsInterval | undefined, source: StatsSourceParam): StatsTable {
  return source === 'raw' ? 'events' : chooseRollup(range, interval)
}

/** A raw event's hour, as the hourly rollup's view computes it: raw answers bucket exactly like the rollup. */
export const RAW_HOUR = 'toStartOfHour(toDateTime(ts))'

/** Buckets from an hour start (UTC `DateTime`) into wall-time periods of tz: whole-hour offsets are exact. */
export function hourBucketExpression(hour: string, interval: StatsInterval): string {
  const local = `toTimeZone(${hour}, {tz:String})`
  switch (interval) {
    case 'hour':
      return `formatDateTime(${local}, '%Y-%m-%dT%H:00:00')`
    case 'day':
      return `toString(toDate(${local}))`
    case 'week':
      return `toString(toMonday(${local}))`
    case 'month':
      return `toString(toStartOfMonth(${local}))`
  }
}

function bucketExpression(table: StatsTable, interval: StatsInterval): string {
  if (table === 'rollup_dims_daily') {
    switch (interval) {
      case 'day':
        return 'toString(bucket)'
      case 'week':
        return 'toString(toMonday(bucket))'
      case 'month':
        return 'toString(toStartOfMonth(bucket))'
      case 'hour':
        throw new Error('the daily rollup has no hours')
    }
  }
  return hourBucketExpression(table === 'events' ? RAW_HOUR : 'bucket', interval)
}

/** The hour-bucket range of the hourly rollup, for an hour expression; the plain ts bounds let events skip parts and granules. */
export function hourRange(hour: string, ts?: string): string {
  const from = 'parseDateTimeBestEffort({from:String}, {tz:String})'
  const to = 'parseDateTimeBestEffort({to:String}, {tz:String})'
  const prefilter = ts === undefined ? '' : `${ts} >= ${from} AND ${ts} < ${to} + INTERVAL 1 HOUR AND `
  return `${prefilter}${hour} >= ${from} AND ${hour} < ${to}`
}

/** The scope every read starts with: the key's org (never the request's), one site, the range, no bots. */
function scopeWhere(table: StatsTable): string {
  const range =
    table === 'rollup_dims_daily'
      ? 'bucket >= toDate({from:String}) AND bucket < toDate({to:String})'
      : table === 'events'
        ? hourRange(RAW_HOUR, 'ts')
        : hourRange('bucket')
  return `org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${range}`
}

/** The same measures from sketches (rollups) or exactly from events; visitors, sessions and accounts skip empty ids like the views. */
const MEASURES = {
  rollup: {
    visitors: 'uniqMerge(visitors)',
    sessions: 'uniqMerge(sessions)',
    accounts: 'uniqMerge(accounts)',
    events: 'sum(events)',
    pageviews: "sumIf(events, type = 'pageview')",
  },
  events: {
    visitors: "uniqExactIf(anon_id, anon_id != '')",
    sessions: "uniqExactIf(session_id, session_id != '')",
    accounts: "uniqExactIf(user_pid, user_pid != '')",
    events: 'count()',
    pageviews: "countIf(type = 'pageview')",
  },
} as const

const measures = (table: StatsTable) => MEASURES[table === 'events' ? 'events' : 'rollup']

export function settings(limits: QueryLimits): string {
  return `SETTINGS max_execution_time = ${Math.floor(limits.maxExecutionSeconds)}, max_result_rows = ${Math.floor(limits.maxResultRows)}, result_overflow_mode = 'throw'`
}

export interface Scope {
  org: string
  site: string
  range: ResolvedRange
}

export function scopeParams(scope: Scope): Record<string, unknown> {
  return { org: scope.org, site: scope.site, from: scope.range.from, to: scope.range.to, tz: scope.range.tz }
}

/** Rollup rows of one dimension only; raw events need no such filter (every row is one event). */
function dimensionWhere(table: StatsTable, dimension: '' | StatsDimension): string {
  if (table === 'events') return ''
  // '' is the totals pseudo-dimension: each event once, a handful of rows per bucket.
  return dimension === '' ? " AND dimension = ''" : ' AND dimension = {dimension:String}'
}

/**
 * Filters over raw events, for per-bucket answers: the WHERE the positive clauses narrow to, exact measures
 * over the kept events, and per `!=`/`!~` clause the visitors it alone removed (n_removed_<i>), so a
 * bucket that would single out 1 to k−1 of them by differencing is hidden.
 */
function filteredEvents(filters: CompiledFilters) {
  // Distinct ids by their 64-bit hash: a third of the work of exact strings, exact up to a collision (~1e-8 at a million ids).
  const r = rowForm(filters)
  const kept = `(${r.kept})`
  return {
    where: ` AND ${r.where}`,
    prewhere: r.prewhere === '' ? '' : `PREWHERE ${r.prewhere}\n`,
    m: {
      visitors: `uniqExactIf(cityHash64(anon_id), anon_id != '' AND ${kept})`,
      sessions: `uniqExactIf(cityHash64(session_id), session_id != '' AND ${kept})`,
      accounts: `uniqExactIf(cityHash64(user_pid), user_pid != '' AND ${kept})`,
      events: `countIf(${kept})`,
      pageviews: `countIf(type = 'pageview' AND ${kept})`,
    },
    removed: r.removed.map((x) => `, uniqExactIf(cityHash64(anon_id), anon_id != '' AND ${x.sql}) AS n_removed_${x.index}`).join(''),
    params: filters.params,
  }
}

/** Output columns are n_*: an alias named `events` would capture the column inside sumIf. With filters, table must be events. */
export function timeseriesQuery(scope: Scope, table: StatsTable, interval: StatsInterval, limits: QueryLimits = DEFAULT_LIMITS, filters?: CompiledFilters): BuiltQuery {
  if (filters && table !== 'events') throw new Error('filters read raw events')
  const f = filters ? filteredEvents(filters) : undefined
  const m = f?.m ?? measures(table)
  return {
    query: `SELECT ${bucketExpression(table, interval)} AS t,
    ${m.visitors} AS n_visitors, ${m.pageviews} AS n_pageviews, ${m.events} AS n_events, ${m.sessions} AS n_sessions${f?.removed ?? ''}
FROM ${DB}.${table}
${f?.prewhere ?? ''}WHERE ${scopeWhere(table)}${dimensionWhere(table, '')}${f?.where ?? ''}
GROUP BY t ORDER BY t
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...(f?.params ?? {}), limit: limits.maxResultRows },
  }
}

/** Feature adoption: distinct signed-in accounts per period that used one feature (type = 'feature', name = feature). */
export function adoptionQuery(scope: Scope, table: StatsTable, interval: StatsInterval, feature: string, limits: QueryLimits = DEFAULT_LIMITS, filters?: CompiledFilters): BuiltQuery {
  if (filters && table !== 'events') throw new Error('filters read raw events')
  const f = filters ? filteredEvents(filters) : undefined
  const m = f?.m ?? measures(table)
  return {
    query: `SELECT ${bucketExpression(table, interval)} AS t, ${m.accounts} AS n_accounts, ${m.visitors} AS n_visitors, ${m.events} AS n_events${f?.removed ?? ''}
FROM ${DB}.${table}
${f?.prewhere ?? ''}WHERE ${scopeWhere(table)} AND type = 'feature' AND ${table === 'events' ? 'name' : "dimension = 'name' AND value"} = {feature:String}${f?.where ?? ''}
GROUP BY t ORDER BY t
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...(f?.params ?? {}), feature, limit: limits.maxResultRows },
  }
}

/** What differencing filtered answers could single out over the whole range (filters.ts differencingColumns): an answer is hidden whole when one column is 1 to k−1. */
export function complementQuery(scope: Scope, filters: CompiledFilters, k: number, limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery | undefined {
  // Event-level clauses alone: one plain scan of the range is cheapest. A visit-level one: one read grouped by visit beats an IN-subquery per clause and value.
  if (!filters.hasVisit) return complementQueryByEvent(scope, filters, k, limits)
  const query = differencingByVisit(filters, k)
  if (query === undefined) return undefined
  return { query: `${query}\n${settings(limits)}`, query_params: { ...scopeParams(scope), ...filters.params, guard_k: k } }
}

/** The same columns from one scan of the range, for filters without a visit-level clause. */
function complementQueryByEvent(scope: Scope, filters: CompiledFilters, k: number, limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery | undefined {
  const cols = differencingColumns(filters, k)
  if (cols.length === 0) return undefined
  const cut = differencingRowCut(filters)
  return {
    query: `SELECT ${cols.join(',\n    ')}
FROM ${DB}.events${cut ? `\nPREWHERE ${cut}` : ''}
WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${RANGE}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...filters.params, guard_k: k },
  }
}

/** The column holding a dimension's values: its own in events, `value` (beside `dimension`) in the rollups. */
function dimensionColumn(table: StatsTable, dimension: StatsDimension): string {
  // Every rollup dimension is an events column of the same name (filters.ts keeps the one list).
  const column = EVENT_COLUMNS[dimension]
  if (!column) throw new Error(`not a dimension: ${String(dimension)}`)
  return table === 'events' ? `toString(${column})` : 'value'
}

const dimensionParam = (table: StatsTable, dimension: StatsDimension) => (table === 'events' ? {} : { dimension })

export interface BreakdownSpec {
  dimension: StatsDimension
  type?: string | undefined
  limit: number
  k: number
}

/** The named rows: only values with at least k visitors can come back, the top `limit` of them. */
export function breakdownTopQuery(scope: Scope, table: StatsTable, spec: BreakdownSpec, limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery {
  const column = dimensionColumn(table, spec.dimension)
  const m = measures(table)
  return {
    query: `SELECT ${column === 'value' ? 'value' : `${column} AS value`}, ${m.visitors} AS visitors, ${m.events} AS events
FROM ${DB}.${table}
WHERE ${scopeWhere(table)}${dimensionWhere(table, spec.dimension)}${spec.type === undefined ? '' : ' AND type = {type:String}'}
GROUP BY value
HAVING visitors >= {k:UInt32}
ORDER BY visitors DESC, events DESC, value ASC
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...dimensionParam(table, spec.dimension), ...(spec.type === undefined ? {} : { type: spec.type }), k: spec.k, limit: spec.limit },
  }
}

/** "other": every value not named, merged in the warehouse so a visitor of several of them counts once. */
export function breakdownRestQuery(scope: Scope, table: StatsTable, spec: BreakdownSpec, kept: readonly string[], limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery {
  const column = dimensionColumn(table, spec.dimension)
  const m = measures(table)
  return {
    query: `SELECT ${m.visitors} AS visitors, ${m.events} AS events
FROM ${DB}.${table}
WHERE ${scopeWhere(table)}${dimensionWhere(table, spec.dimension)}${spec.type === undefined ? '' : ' AND type = {type:String}'} AND ${column} NOT IN {kept:Array(String)}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...dimensionParam(table, spec.dimension), ...(spec.type === undefined ? {} : { type: spec.type }), kept: [...kept] },
  }
}

/** Consent receipts per source in the range (by receipt time, UTC). */
export function consentQuery(scope: Scope, limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery {
  return {
    query: `SELECT toString(source) AS source, countIf(analytics) AS grants, countIf(NOT analytics) AS refusals
FROM ${DB}.consent_log
WHERE org_id = {org:String} AND site_id = {site:String}
  AND received_at >= parseDateTimeBestEffort({from:String}, {tz:String}) AND received_at < parseDateTimeBestEffort({to:String}, {tz:String})
GROUP BY source ORDER BY source
LIMIT 100
${settings(limits)}`,
    query_params: scopeParams(scope),
  }
}
