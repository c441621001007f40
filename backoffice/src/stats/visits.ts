import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { type CompiledFilters, candidateVisits, visitForm } from './filters.js'

/**
 * One row per visit (session_id) from one scan of raw events: what the filters keep of it in a
 * period, what each `!=`/`!~` clause alone removes, and the whole visit's shape (events, pageviews,
 * duration). Events without a session form one pseudo-visit per visitor: they count as events and
 * visitors, never as visits.
 */

export interface Period {
  /** Suffix of the columns of this period. */
  name: string
  /** Parameters holding its wall-time bounds (in {tz:String}). */
  fromParam: string
  toParam: string
}

export interface VisitsSpec {
  filters: CompiledFilters
  periods: readonly Period[]
  /** The events completing a goal, when conversions are asked for. */
  goal?: string | undefined
  /** Extra per-visit columns, e.g. `argMin(channel, ts) AS value`. */
  extra?: readonly string[]
  /** Parameter holding the earliest wall time read (the first period's start). */
  startParam: string
  /** Parameter holding the latest wall time read (the last period's end). */
  endParam: string
  /** The visits read, when not candidateVisits' cut (a wider one, for columns that need more visits than the kept ones). */
  cut?: string | undefined
}

const at = (param: string) => `parseDateTimeBestEffort({${param}:String}, {tz:String})`

/** The events a visits subquery reads: its periods widened by a day either side, so a visit crossing an edge is measured whole. */
export const visitsRange = (spec: Pick<VisitsSpec, 'startParam' | 'endParam'>) =>
  `ts >= ${at(spec.startParam)} - INTERVAL 1 DAY AND ts < ${at(spec.endParam)} + INTERVAL 1 DAY`

/** A period's own events. */
export const periodRange = (p: Period) => `ts >= ${at(p.fromParam)} AND ts < ${at(p.toParam)}`

/** The per-visit subquery. Columns: has_session, visitor (hash of its anon_id), has_visitor, kept_<p>, kept_pv_<p>, goal_<p>, removed_<i>_<p>, v_events, v_pageviews, v_seconds. */
export function visitsSubquery(spec: VisitsSpec): string {
  const f = visitForm(spec.filters)
  const cols: string[] = []
  for (const p of spec.periods) {
    const inPeriod = periodRange(p)
    const kept = `${inPeriod} AND ${f.kept.row}`
    const times = (cond: string, visit: string) => (visit === '1' ? `countIf(${cond})` : `countIf(${cond}) * (${visit})`)
    cols.push(`${times(kept, f.kept.visit)} AS kept_${p.name}`)
    cols.push(`${times(`${kept} AND type = 'pageview'`, f.kept.visit)} AS kept_pv_${p.name}`)
    if (spec.goal !== undefined) cols.push(`${times(`${kept} AND ${spec.goal}`, f.kept.visit)} AS goal_${p.name}`)
    for (const r of f.removed) cols.push(`${times(`${inPeriod} AND ${r.row}`, r.visit)} AS removed_${r.index}_${p.name}`)
  }
  cols.push("count() AS v_events, countIf(type = 'pageview') AS v_pageviews, dateDiff('millisecond', min(ts), max(ts)) / 1000 AS v_seconds")
  for (const e of spec.extra ?? []) cols.push(e)
  const range = visitsRange(spec)
  // Only visits that can hold a kept event are grouped: with a selective filter, a small share of them.
  const cut = spec.cut ?? candidateVisits(spec.filters, range)
  // One group per session, keyed by one 64-bit hash (cheaper than the strings or two keys); events without one, one group per visitor (never a visit).
  // visitor: the anon_id's 64-bit hash, so visitor counts are exact up to a hash collision (~1e-8 at a million visitors).
  return `SELECT max(session_id != '') AS has_session, any(cityHash64(anon_id)) AS visitor, max(anon_id != '') AS has_visitor,
        ${cols.join(',\n        ')}
    FROM ${DB}.events${cut ? `\n    PREWHERE ${cut}` : ''}
    WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0
      AND ${range}
    GROUP BY if(session_id = '', cityHash64(anon_id), cityHash64(session_id))`
}

/** Visitors a negative clause alone removed, per period: 1 to k−1 of them would be singled out by differencing. */
export function removedColumns(filters: CompiledFilters, period: string): string[] {
  return visitForm(filters).removed.map((r) => `uniqExactIf(visitor, removed_${r.index}_${period} > 0 AND has_visitor) AS n_removed_${r.index}_${period}`)
}

/** True when some negative clause removed between 1 and k−1 visitors. */
export function complementLeaks(row: Record<string, unknown>, filters: CompiledFilters, period: string, k: number): boolean {
  return visitForm(filters).removed.some((r) => {
    const n = Number(row[`n_removed_${r.index}_${period}`] ?? 0)
    return n > 0 && n < k
  })
}
