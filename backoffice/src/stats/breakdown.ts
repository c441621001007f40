import { dimensionLevel, type FilterClause, type StatsBreakdownDimension, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { type CompiledFilters, EXIT_PAGE, eventValue, isStamped, RANGE, rowForm, visitForm } from './filters.js'
import type { ResolvedGoal } from './goals.js'
import { goalPredicate } from './goals.js'
import { type BuiltQuery, type QueryLimits, type Scope, scopeParams, settings } from './queries.js'
import { visitsSubquery } from './visits.js'

/**
 * Breakdowns from raw events: any dimension (event-level, `props.<key>`, visit-level, goals) under
 * filters, with conversions for a goal. k rules as the rollup path (kanon.ts): a named row needs k
 * visitors, `other` is merged in the warehouse; a row a `!=`/`!~` clause would single people out of
 * by differencing (1 to k−1 visitors removed) is not named.
 */

export interface RawBreakdownSpec {
  dimension: StatsBreakdownDimension
  filters: CompiledFilters
  goal?: { sql: string; params: Record<string, unknown> } | undefined
  limit: number
  k: number
}

/** `type=X` of a breakdown is one more event-level clause. */
export function typeClause(type: string | undefined): FilterClause[] {
  return type === undefined ? [] : [{ dimension: 'type', op: 'is', values: [type] }]
}

const SCOPE = `org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${RANGE}`

/** Rows per visit (grouped by session at query time): only the exit page; the stamped visit values are read event by event. */
const isVisitDimension = (d: string) => dimensionLevel(d) === 'visit' && !isStamped(d)

/** A breakdown measure: distinct visitors (merged across values for `other`, so one visitor counts once) or an additive count. */
interface Measure {
  name: string
  /** uniqExact over `of` where `cond`: kept per value as a state, merged for `other`. */
  distinct?: { of: string; cond: string }
  /** An additive aggregate (countIf / sum), summed for `other`. */
  total?: string
}

interface Parts {
  from: string
  value: string
  measures: Measure[]
  removedNames: string[]
  params: Record<string, unknown>
}

/** The FROM, value and measures of either form: events one by one, or one row per visit. */
function parts(scope: Scope, spec: RawBreakdownSpec): Parts {
  const params: Record<string, unknown> = { ...scopeParams(scope), ...spec.filters.params, ...(spec.goal?.params ?? {}), k: spec.k }
  if (isVisitDimension(spec.dimension)) {
    const inner = visitsSubquery({
      filters: spec.filters,
      periods: [{ name: 'cur', fromParam: 'from', toParam: 'to' }],
      goal: spec.goal?.sql,
      extra: [`${EXIT_PAGE} AS value`],
      startParam: 'from',
      endParam: 'to',
    })
    const removed = visitForm(spec.filters).removed.map((r) => ({ name: `n_removed_${r.index}_cur`, distinct: { of: 'visitor', cond: `removed_${r.index}_cur > 0 AND has_visitor` } }))
    const measures: Measure[] = [
      { name: 'visitors', distinct: { of: 'visitor', cond: 'kept_cur > 0 AND has_visitor' } },
      { name: 'events', total: 'sum(kept_cur)' },
      { name: 'visits', total: 'countIf(kept_cur > 0 AND has_session)' },
      ...(spec.goal ? [{ name: 'conversions', distinct: { of: 'visitor', cond: 'goal_cur > 0 AND has_visitor' } }] : []),
      ...removed,
    ]
    return { from: `(\n    ${inner}\n) WHERE has_session`, value: 'value', measures, removedNames: removed.map((r) => r.name), params }
  }
  const r = rowForm(spec.filters)
  const kept = `(${r.kept})`
  const visitor = (cond: string) => ({ of: 'cityHash64(anon_id)', cond: `${cond} AND anon_id != ''` })
  const removed = r.removed.map((x) => ({ name: `n_removed_${x.index}`, distinct: visitor(x.sql) }))
  // A stamped visit value (entry page, source): each event of a visit carries it, so a row's visits are its distinct sessions.
  const stamped = isStamped(spec.dimension)
  const measures: Measure[] = [
    { name: 'visitors', distinct: visitor(kept) },
    { name: 'events', total: `countIf(${kept})` },
    ...(stamped ? [{ name: 'visits', distinct: { of: 'cityHash64(session_id)', cond: kept } }] : []),
    ...(spec.goal ? [{ name: 'conversions', distinct: visitor(`${kept} AND ${spec.goal.sql}`) }] : []),
    ...removed,
  ]
  const value = eventValue(spec.dimension, 'dim_key', params)
  const prewhere = r.prewhere === '' ? '' : ` PREWHERE ${r.prewhere}`
  // Only events with a session have a visit to take the value from.
  const where = stamped ? `${r.where} AND session_id != ''` : r.where
  return { from: `${DB}.events${prewhere} WHERE ${SCOPE} AND ${where}`, value, measures, removedNames: removed.map((x) => x.name), params }
}

/**
 * The named rows and `other` from one read: per value, each distinct count kept as a state; the top `limit` values
 * with k visitors and no complement leak (ranked as before: visitors, events, value) are rows (is_top = 1), every other
 * value's states merged into one row (is_top = 0) with `leaking`, how many of them a negative clause removed 1 to k−1 visitors from.
 */
export function rawBreakdownQuery(scope: Scope, spec: RawBreakdownSpec, limits: QueryLimits): BuiltQuery {
  const p = parts(scope, spec)
  const perValue = p.measures.map((m) => (m.distinct ? `uniqExactStateIf(${m.distinct.of}, ${m.distinct.cond}) AS s_${m.name}` : `${m.total} AS s_${m.name}`))
  const merged = p.measures.map((m) => (m.distinct ? `uniqExactMerge(s_${m.name}) AS ${m.name}` : `sum(s_${m.name}) AS ${m.name}`))
  const safe = p.removedNames.length === 0 ? '1' : p.removedNames.map((n) => `NOT (finalizeAggregation(s_${n}) BETWEEN 1 AND {k:UInt32} - 1)`).join(' AND ')
  return {
    query: `SELECT is_top, if(is_top = 1, value, '') AS row_value, ${merged.join(', ')}, countIf(safe = 0) AS leaking
FROM (
    SELECT *, toUInt8(eligible = 1 AND row_number() OVER (ORDER BY eligible DESC, n_visitors DESC, s_events DESC, value ASC) <= {limit:UInt32}) AS is_top
    FROM (
        SELECT *, toUInt8(${safe}) AS safe, finalizeAggregation(s_visitors) AS n_visitors, toUInt8(safe = 1 AND n_visitors >= {k:UInt32}) AS eligible
        FROM (
            SELECT ${p.value === 'value' ? 'value' : `${p.value} AS value`}, ${perValue.join(', ')}
            FROM ${p.from}
            GROUP BY value
        )
    )
)
GROUP BY is_top, row_value
ORDER BY is_top DESC, visitors DESC, events DESC, row_value ASC
${settings(limits)}`,
    query_params: { ...p.params, limit: spec.limit },
  }
}

/** Rows per goal: visitors who completed it and completions, under the filters; n_removed_<j>_<g> per negative clause. */
export function goalBreakdownQuery(scope: Scope, filters: CompiledFilters, goals: readonly ResolvedGoal[], limits: QueryLimits): BuiltQuery {
  const r = rowForm(filters)
  const params: Record<string, unknown> = { ...scopeParams(scope), ...filters.params }
  const cols = goals.flatMap((g, i) => {
    const pred = goalPredicate(g, `goal_${i}`)
    Object.assign(params, pred.params)
    return [
      `uniqExactIf(cityHash64(anon_id), (${r.kept}) AND ${pred.sql} AND anon_id != '') AS visitors_${i}`,
      `countIf((${r.kept}) AND ${pred.sql}) AS events_${i}`,
      ...r.removed.map((x) => `uniqExactIf(cityHash64(anon_id), ${x.sql} AND ${pred.sql} AND anon_id != '') AS n_removed_${x.index}_${i}`),
    ]
  })
  return {
    query: `SELECT ${cols.length === 0 ? 'count() AS none' : cols.join(',\n    ')}
FROM ${DB}.events${r.prewhere === '' ? '' : ` PREWHERE ${r.prewhere}`} WHERE ${SCOPE} AND ${r.where}
${settings(limits)}`,
    query_params: params,
  }
}

/** A count of visitors shown only at 0 or from k: conversions of a row. */
export const hideUnderK = (n: number, k: number): number | null => (n === 0 || n >= k ? n : null)

/** No negative clause removed 1 to k−1 visitors (columns named by `names`). */
export function complementSafe(row: Record<string, unknown>, names: readonly string[], k: number): boolean {
  return names.every((n) => {
    const v = Number(row[n] ?? 0)
    return v === 0 || v >= k
  })
}

/** The removed-visitor columns a row of either form carries. */
export function removedNames(spec: RawBreakdownSpec): string[] {
  return isVisitDimension(spec.dimension) ? visitForm(spec.filters).removed.map((r) => `n_removed_${r.index}_cur`) : rowForm(spec.filters).removed.map((x) => `n_removed_${x.index}`)
}

export interface RawBreakdownRequest {
  dimension: StatsBreakdownDimension
  type?: string | undefined
  limit: number
  filters: CompiledFilters
  goal?: ResolvedGoal | undefined
  /** The site's goals, rows of dimension=goal. */
  siteGoals: readonly ResolvedGoal[]
}

export interface BreakdownRowOut {
  value: string
  visitors: number
  events: number
  visits?: number
  conversions?: number | null
  conversion_rate?: number | null
}

type Read = <T>(q: BuiltQuery) => Promise<T[]>

/** Conversions and their rate for a row, when a goal is asked for. */
function withGoal(row: Record<string, unknown>, visitors: number, k: number, goal: boolean) {
  if (!goal) return {}
  const conversions = hideUnderK(Number(row.conversions ?? 0), k)
  return { conversions, conversion_rate: conversions === null || visitors === 0 ? null : conversions / visitors }
}

/** Named rows and `other` of a raw breakdown, every shown number from at least k visitors. */
export async function rawBreakdown(read: Read, scope: Scope, req: RawBreakdownRequest, k: number, limits: QueryLimits): Promise<{ rows: BreakdownRowOut[]; other: Omit<BreakdownRowOut, 'value'> | null }> {
  if (req.dimension === 'goal') {
    // No goals, nothing to count: a query without aggregates would return a row per event.
    if (req.siteGoals.length === 0) return { rows: [], other: null }
    const [row = {}] = await read<Record<string, unknown>>(goalBreakdownQuery(scope, req.filters, req.siteGoals, limits))
    const negatives = rowForm(req.filters).removed
    const rows = req.siteGoals
      .map((g, i) => ({ value: g.name, visitors: Number(row[`visitors_${i}`] ?? 0), events: Number(row[`events_${i}`] ?? 0), i }))
      .filter((r) => r.visitors >= k && complementSafe(row, negatives.map((x) => `n_removed_${x.index}_${r.i}`), k))
      .sort((a, b) => b.visitors - a.visitors || b.events - a.events || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
      .slice(0, req.limit)
      .map(({ value, visitors, events }) => ({ value, visitors, events }))
    return { rows, other: null }
  }
  const spec: RawBreakdownSpec = {
    dimension: req.dimension,
    filters: req.filters,
    goal: req.goal ? goalPredicate(req.goal, 'goal_match') : undefined,
    limit: req.limit,
    k,
  }
  const visitDim = dimensionLevel(req.dimension) === 'visit'
  const shape = (r: Record<string, unknown>) => {
    const visitors = Number(r.visitors ?? 0)
    return { visitors, events: Number(r.events ?? 0), ...(visitDim ? { visits: Number(r.visits ?? 0) } : {}), ...withGoal(r, visitors, k, spec.goal !== undefined) }
  }
  const answer = await read<Record<string, unknown>>(rawBreakdownQuery(scope, spec, limits))
  const rows = answer.filter((r) => Number(r.is_top) === 1).map((r) => ({ value: String(r.row_value), ...shape(r) }))
  const rest = answer.find((r) => Number(r.is_top) !== 1) ?? {}
  const leaking = Number(rest.leaking ?? 0)
  const other = shape(rest)
  // Other is shown only when no value in it lost 1 to k−1 visitors to a negative clause: its difference with another query's other would single them out.
  const otherShown = other.visitors >= k && complementSafe(rest, removedNames(spec), k) && leaking === 0
  return { rows, other: otherShown ? other : null }
}
