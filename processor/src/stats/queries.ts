import { type StatsDimension, type StatsInterval, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'

/** Pure query builders: SQL text built only from whitelisted identifiers; every value travels as a query parameter. */

export type RollupTable = 'rollup_hourly' | 'rollup_daily'

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

export class StatsRequestError extends Error {}

export interface ResolvedRange {
  from: string
  to: string
  tz: string
  days: number
}

const isDay = (s: string) => s.length === 10

/** Wall time → epoch ms as if UTC: enough to measure a range, whatever the zone's offset. */
function approxMs(s: string): number {
  return Date.parse(isDay(s) ? `${s}T00:00:00Z` : `${s.slice(0, 16)}:00Z`)
}

function dayString(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** from/to as given, or the default: the 30 days ending tomorrow (UTC), `to` exclusive. */
export function resolveRange(q: { from?: string | undefined; to?: string | undefined }, tz: string, now: number): ResolvedRange {
  if (!validTimeZone(tz)) throw new StatsRequestError(`unknown time zone ${tz}`)
  const to = q.to ?? dayString(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS)
  const toMs = approxMs(to)
  const from = q.from ?? dayString(toMs - DEFAULT_RANGE_DAYS * DAY_MS)
  const fromMs = approxMs(from)
  if (!Number.isFinite(fromMs) || !Number.isFinite(toMs)) throw new StatsRequestError('from and to must be real dates')
  if (fromMs >= toMs) throw new StatsRequestError('from must be before to')
  const days = (toMs - fromMs) / DAY_MS
  if (days > MAX_RANGE_DAYS) throw new StatsRequestError(`ranges are at most ${MAX_RANGE_DAYS} days`)
  return { from, to, tz, days }
}

export function validTimeZone(tz: string): boolean {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(tz)) return false
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

/** Daily states only answer whole UTC days over more than a week; everything else merges hourly ones. */
export function chooseRollup(range: ResolvedRange, interval: StatsInterval | undefined): RollupTable {
  const utc = range.tz === 'UTC' || range.tz === 'Etc/UTC'
  const wholeDays = isDay(range.from) && isDay(range.to)
  if (utc && wholeDays && interval !== 'hour' && range.days > HOURLY_THRESHOLD_DAYS) return 'rollup_daily'
  return 'rollup_hourly'
}

function bucketExpression(table: RollupTable, interval: StatsInterval): string {
  if (table === 'rollup_daily') {
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
  const local = 'toTimeZone(bucket, {tz:String})'
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

/** The scope every rollup read starts with: the key's org (never the request's), one site, the range, no bots. */
function rollupWhere(table: RollupTable): string {
  const range =
    table === 'rollup_daily'
      ? 'bucket >= toDate({from:String}) AND bucket < toDate({to:String})'
      : 'bucket >= parseDateTimeBestEffort({from:String}, {tz:String}) AND bucket < parseDateTimeBestEffort({to:String}, {tz:String})'
  return `org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${range}`
}

function settings(limits: QueryLimits): string {
  return `SETTINGS max_execution_time = ${Math.floor(limits.maxExecutionSeconds)}, max_result_rows = ${Math.floor(limits.maxResultRows)}, result_overflow_mode = 'throw'`
}

export interface Scope {
  org: string
  site: string
  range: ResolvedRange
}

function scopeParams(scope: Scope): Record<string, unknown> {
  return { org: scope.org, site: scope.site, from: scope.range.from, to: scope.range.to, tz: scope.range.tz }
}

/** Output columns are n_*: an alias named `events` would capture the column inside sumIf. */
export function timeseriesQuery(scope: Scope, table: RollupTable, interval: StatsInterval, limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery {
  return {
    query: `SELECT ${bucketExpression(table, interval)} AS t,
    uniqMerge(visitors) AS n_visitors, sumIf(events, type = 'pageview') AS n_pageviews, sum(events) AS n_events, uniqMerge(sessions) AS n_sessions
FROM ${DB}.${table}
WHERE ${rollupWhere(table)}
GROUP BY t ORDER BY t
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), limit: limits.maxResultRows },
  }
}

/** Feature adoption: distinct signed-in accounts per period that used one feature (type = 'feature', name = feature). */
export function adoptionQuery(scope: Scope, table: RollupTable, interval: StatsInterval, feature: string, limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery {
  return {
    query: `SELECT ${bucketExpression(table, interval)} AS t, uniqMerge(accounts) AS n_accounts, uniqMerge(visitors) AS n_visitors, sum(events) AS n_events
FROM ${DB}.${table}
WHERE ${rollupWhere(table)} AND type = 'feature' AND name = {feature:String}
GROUP BY t ORDER BY t
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), feature, limit: limits.maxResultRows },
  }
}

const DIMENSION_COLUMNS: Record<StatsDimension, string> = {
  url_path: 'url_path',
  referrer_host: 'referrer_host',
  country: 'country',
  browser: 'browser',
  os: 'os',
  device_type: 'device_type',
  name: 'name',
}

function dimensionColumn(dimension: StatsDimension): string {
  const column = DIMENSION_COLUMNS[dimension]
  if (!column) throw new Error(`not a dimension: ${String(dimension)}`)
  return column
}

export interface BreakdownSpec {
  dimension: StatsDimension
  type?: string | undefined
  limit: number
  k: number
}

/** The named rows: only values with at least k visitors can come back, the top `limit` of them. */
export function breakdownTopQuery(scope: Scope, table: RollupTable, spec: BreakdownSpec, limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery {
  const column = dimensionColumn(spec.dimension)
  return {
    query: `SELECT toString(${column}) AS value, uniqMerge(visitors) AS visitors, sum(events) AS events
FROM ${DB}.${table}
WHERE ${rollupWhere(table)}${spec.type === undefined ? '' : ' AND type = {type:String}'}
GROUP BY value
HAVING visitors >= {k:UInt32}
ORDER BY visitors DESC, events DESC, value ASC
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...(spec.type === undefined ? {} : { type: spec.type }), k: spec.k, limit: spec.limit },
  }
}

/** "other": every value not named, merged in the warehouse so a visitor of several of them counts once. */
export function breakdownRestQuery(scope: Scope, table: RollupTable, spec: BreakdownSpec, kept: readonly string[], limits: QueryLimits = DEFAULT_LIMITS): BuiltQuery {
  const column = dimensionColumn(spec.dimension)
  return {
    query: `SELECT uniqMerge(visitors) AS visitors, sum(events) AS events
FROM ${DB}.${table}
WHERE ${rollupWhere(table)}${spec.type === undefined ? '' : ' AND type = {type:String}'} AND toString(${column}) NOT IN {kept:Array(String)}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...(spec.type === undefined ? {} : { type: spec.type }), kept: [...kept] },
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
