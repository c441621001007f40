import { dimensionLevel, type FilterClause, type StatsBreakdownDimension, type VisitDimension, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { type CompiledFilters, eventValue, rowForm, VISIT_VALUES, visitForm } from './filters.js'
import type { ResolvedGoal } from './goals.js'
import { goalPredicate } from './goals.js'
import { type BuiltQuery, type QueryLimits, type Scope, scopeParams, settings } from './queries.js'
import { removedColumns, visitsSubquery } from './visits.js'

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

const RANGE = 'ts >= parseDateTimeBestEffort({from:String}, {tz:String}) AND ts < parseDateTimeBestEffort({to:String}, {tz:String})'
const SCOPE = `org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${RANGE}`

/** No negative clause removed 1 to k−1 visitors of the row. */
const complementOk = (names: readonly string[]) => names.map((n) => `NOT (${n} BETWEEN 1 AND {k:UInt32} - 1)`)

const isVisitDimension = (d: string) => dimensionLevel(d) === 'visit'

interface Parts {
  from: string
  value: string
  measures: string[]
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
      extra: [`${VISIT_VALUES[spec.dimension as VisitDimension]} AS value`],
      startParam: 'from',
      endParam: 'to',
    })
    const removed = removedColumns(spec.filters, 'cur')
    const measures = [
      "uniqExactIf(visitor, kept_cur > 0 AND has_visitor) AS visitors",
      'sum(kept_cur) AS events',
      "countIf(kept_cur > 0 AND has_session) AS visits",
      ...(spec.goal ? ["uniqExactIf(visitor, goal_cur > 0 AND has_visitor) AS conversions"] : []),
      ...removed,
    ]
    return { from: `(\n    ${inner}\n) WHERE has_session`, value: 'value', measures, removedNames: visitForm(spec.filters).removed.map((r) => `n_removed_${r.index}_cur`), params }
  }
  const r = rowForm(spec.filters)
  const kept = `(${r.kept})`
  const measures = [
    `uniqExactIf(cityHash64(anon_id), ${kept} AND anon_id != '') AS visitors`,
    `countIf(${kept}) AS events`,
    ...(spec.goal ? [`uniqExactIf(cityHash64(anon_id), ${kept} AND ${spec.goal.sql} AND anon_id != '') AS conversions`] : []),
    ...r.removed.map((x) => `uniqExactIf(cityHash64(anon_id), ${x.sql} AND anon_id != '') AS n_removed_${x.index}`),
  ]
  const value = eventValue(spec.dimension, 'dim_key', params)
  const prewhere = r.prewhere === '' ? '' : ` PREWHERE ${r.prewhere}`
  return { from: `${DB}.events${prewhere} WHERE ${SCOPE} AND ${r.where}`, value, measures, removedNames: r.removed.map((x) => `n_removed_${x.index}`), params }
}

export function rawBreakdownTopQuery(scope: Scope, spec: RawBreakdownSpec, limits: QueryLimits): BuiltQuery {
  const p = parts(scope, spec)
  const having = ['visitors >= {k:UInt32}', ...complementOk(p.removedNames)].join(' AND ')
  return {
    query: `SELECT ${p.value === 'value' ? 'value' : `${p.value} AS value`}, ${p.measures.join(', ')}
FROM ${p.from}
GROUP BY value
HAVING ${having}
ORDER BY visitors DESC, events DESC, value ASC
LIMIT {limit:UInt32}
${settings(limits)}`,
    query_params: { ...p.params, limit: spec.limit },
  }
}

/** Every value not named, merged in the warehouse (a visitor of several counts once). */
export function rawBreakdownRestQuery(scope: Scope, spec: RawBreakdownSpec, kept: readonly string[], limits: QueryLimits): BuiltQuery {
  const p = parts(scope, spec)
  return {
    query: `SELECT ${p.measures.join(', ')}
FROM ${p.from} AND ${p.value} NOT IN {kept:Array(String)}
${settings(limits)}`,
    query_params: { ...p.params, kept: [...kept] },
  }
}

/** How many values folded into `other` a `!=`/`!~` clause removed 1 to k−1 visitors from: any, and other is not shown. */
export function rawBreakdownRestLeakQuery(scope: Scope, spec: RawBreakdownSpec, kept: readonly string[], limits: QueryLimits): BuiltQuery | undefined {
  const p = parts(scope, spec)
  if (p.removedNames.length === 0) return undefined
  return {
    query: `SELECT count() AS leaking FROM (
    SELECT ${p.value === 'value' ? 'value' : `${p.value} AS value`}, ${p.measures.join(', ')}
    FROM ${p.from} AND ${p.value} NOT IN {kept:Array(String)}
    GROUP BY value
    HAVING NOT (${complementOk(p.removedNames).join(' AND ')})
)
${settings(limits)}`,
    query_params: { ...p.params, kept: [...kept] },
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
  const visitDim = isVisitDimension(req.dimension)
  const shape = (r: Record<string, unknown>) => {
    const visitors = Number(r.visitors ?? 0)
    return { visitors, events: Number(r.events ?? 0), ...(visitDim ? { visits: Number(r.visits ?? 0) } : {}), ...withGoal(r, visitors, k, spec.goal !== undefined) }
  }
  const top = await read<Record<string, unknown>>(rawBreakdownTopQuery(scope, spec, limits))
  const rows = top.map((r) => ({ value: String(r.value), ...shape(r) }))
  const keptValues = rows.map((r) => r.value)
  const leakQuery = rawBreakdownRestLeakQuery(scope, spec, keptValues, limits)
  const [[rest = {}], leaking] = await Promise.all([
    read<Record<string, unknown>>(rawBreakdownRestQuery(scope, spec, keptValues, limits)),
    leakQuery ? read<Record<string, unknown>>(leakQuery).then(([r]) => Number(r?.leaking ?? 0)) : Promise.resolve(0),
  ])
  const other = shape(rest)
  // Other is shown only when no value in it lost 1 to k−1 visitors to a negative clause: its difference with another query's other would single them out.
  const otherShown = other.visitors >= k && complementSafe(rest, removedNames(spec), k) && leaking === 0
  return { rows, other: otherShown ? other : null }
}
