import { type StatsInterval, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { type CompiledFilters, RANGE, visitForm, WIDE_RANGE } from './filters.js'
import { type BuiltQuery, DEFAULT_LIMITS, hourBucketExpression, hourRange, type QueryLimits, type Scope, scopeParams, settings } from './queries.js'

/**
 * Bounce rate per timeseries bucket, from raw events: sessions whose only event is one pageview
 * over sessions with at least one pageview. A session belongs to the bucket of its first event;
 * its events are read from a day either side of the range, so a session that began just before
 * `from` is not taken for a new one and one that runs past `to` is seen whole.
 */
export function bounceQuery(scope: Scope, interval: StatsInterval, limits: QueryLimits = DEFAULT_LIMITS, filters?: CompiledFilters): BuiltQuery {
  const firstHour = 'toStartOfHour(toDateTime(first_ts))'
  // With filters: only sessions with an event the filters keep in the range, each measured whole.
  const f = filters ? visitForm(filters) : undefined
  const kept = f
    ? ` AND countIf(${RANGE} AND ${f.kept.row}) * (${f.kept.visit}) > 0`
    : ''
  return {
    query: `SELECT ${hourBucketExpression(firstHour, interval)} AS t,
    countIf(n_events = 1) AS n_bounces, count() AS n_sessions, uniqExact(anon) AS n_visitors
FROM (
    SELECT session_id, min(ts) AS first_ts, count() AS n_events, countIf(type = 'pageview') AS n_pageviews, argMin(anon_id, ts) AS anon
    FROM ${DB}.events
    WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND session_id != ''
      AND ${WIDE_RANGE}
    GROUP BY session_id
    HAVING n_pageviews >= 1 AND ${hourRange(firstHour)}${kept}
)
GROUP BY t ORDER BY t
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...(filters?.params ?? {}), limit: limits.maxResultRows },
  }
}

export interface BounceCounts {
  t: string
  bounces: number
  sessions: number
  /** Distinct visitors behind those sessions: the rate says something about them, so they must number k. */
  visitors: number
}

/**
 * The bounce rate of each shown bucket: null when the bucket is hidden, when raw events no longer
 * cover it (its label is at or before `horizonLabel`, the bucket holding the retention horizon),
 * when it has no session with a pageview, or when those sessions come from fewer than k visitors.
 */
export function bounceRates(
  buckets: readonly { t: string; hidden: boolean }[],
  counts: readonly BounceCounts[],
  k: number,
  horizonLabel: string | null,
): (number | null)[] {
  const byT = new Map(counts.map((c) => [c.t, c]))
  return buckets.map((b) => {
    const c = byT.get(b.t)
    if (b.hidden || !c || c.sessions === 0 || c.visitors < k) return null
    if (horizonLabel !== null && b.t <= horizonLabel) return null
    return c.bounces / c.sessions
  })
}
