import { type CohortInterval, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { type CompiledFilters, keptWhere } from './filters.js'
import { approxMs, type BuiltQuery, DEFAULT_LIMITS, type QueryLimits, type ResolvedRange, type Scope, scopeParams, settings } from './queries.js'

/** First-use cohorts of a feature over raw events: accounts (user_pid) by the period of their first use in the range. */

const DAY_MS = 86_400_000

const PERIOD: Record<CohortInterval, string> = {
  week: 'toMonday(toDate(ts))',
  month: 'toStartOfMonth(toDate(ts))',
}

/** Accounts per (cohort, period): each account once per period it used the feature, its cohort the first of them. */
export function cohortQuery(scope: Scope, feature: string, interval: CohortInterval, limits: QueryLimits = DEFAULT_LIMITS, filters?: CompiledFilters): BuiltQuery {
  const period = PERIOD[interval]
  if (!period) throw new Error(`not a cohort interval: ${String(interval)}`)
  return {
    query: `SELECT toString(cohort) AS cohort, toString(p) AS period, count() AS accounts
FROM (
    SELECT user_pid, min(period) AS cohort, groupUniqArray(period) AS periods
    FROM (
        SELECT user_pid, ${period} AS period
        FROM ${DB}.events
        WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND user_pid != ''
          AND type = 'feature' AND name = {feature:String}
          AND ts >= parseDateTimeBestEffort({from:String}, {tz:String}) AND ts < parseDateTimeBestEffort({to:String}, {tz:String})${filters ? `
          AND ${keptWhere(filters)}` : ''}
    )
    GROUP BY user_pid
)
ARRAY JOIN periods AS p
GROUP BY cohort, period ORDER BY cohort, period
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...(filters?.params ?? {}), feature, limit: limits.maxResultRows },
  }
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Start of every UTC week (Monday) or month the range touches, in order. */
export function periodStarts(range: Pick<ResolvedRange, 'from' | 'to'>, interval: CohortInterval): string[] {
  const from = approxMs(range.from.slice(0, 10))
  const end = approxMs(range.to)
  const first = new Date(from)
  let start = interval === 'week' ? from - ((first.getUTCDay() + 6) % 7) * DAY_MS : Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)
  const out: string[] = []
  while (start < end) {
    out.push(isoDay(start))
    const d = new Date(start)
    start = interval === 'week' ? start + 7 * DAY_MS : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
  }
  return out
}

export interface CohortRow {
  cohort: string
  period: string
  accounts: number
}

export interface CohortCellOut {
  t: string
  offset: number
  accounts: number | null
}

export interface CohortOut {
  cohort: string
  hidden: boolean
  accounts: number | null
  retained: CohortCellOut[]
}

/**
 * The triangle: per cohort its size and, for every later period in the range, how many of its
 * accounts used the feature then. A cohort under k accounts is hidden whole; a cell under k
 * (0 included, so a null never tells "some" from "none") is null.
 */
export function cohortTriangle(rows: readonly CohortRow[], periods: readonly string[], k: number): CohortOut[] {
  const cells = new Map<string, Map<string, number>>()
  for (const r of rows) {
    const byPeriod = cells.get(r.cohort) ?? new Map<string, number>()
    byPeriod.set(r.period, r.accounts)
    cells.set(r.cohort, byPeriod)
  }
  return [...cells.keys()].sort().map((cohort) => {
    const byPeriod = cells.get(cohort) ?? new Map<string, number>()
    const size = byPeriod.get(cohort) ?? 0
    const hidden = size < k
    const later = periods.filter((p) => p > cohort)
    return {
      cohort,
      hidden,
      accounts: hidden ? null : size,
      retained: later.map((t, i) => {
        const n = byPeriod.get(t) ?? 0
        return { t, offset: i + 1, accounts: hidden || n < k ? null : n }
      }),
    }
  })
}
