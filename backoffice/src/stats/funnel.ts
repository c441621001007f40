import { type FunnelStep, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { type CompiledFilters, keptWhere } from './filters.js'
import { type BuiltQuery, DEFAULT_LIMITS, type QueryLimits, type Scope, scopeParams, settings } from './queries.js'

/** Funnels over raw events: ClickHouse's windowFunnel per visitor (anon_id), steps in order within a window. */

/** A step's condition: a pageview matches its path, any other type its name; a bare name matches events of any type. */
export function stepCondition(step: FunnelStep, i: number): string {
  if (step.type === null) return `name = {s${i}:String}`
  if (step.type === 'pageview') return `(type = 'pageview' AND url_path = {s${i}:String})`
  return `(type = {t${i}:String} AND name = {s${i}:String})`
}

function stepParams(steps: readonly FunnelStep[]): Record<string, string> {
  const params: Record<string, string> = {}
  steps.forEach((step, i) => {
    params[`s${i}`] = step.value
    if (step.type !== null && step.type !== 'pageview') params[`t${i}`] = step.type
  })
  return params
}

/**
 * Visitors per level reached (1 = only the first step). Timestamps in milliseconds, so steps
 * sent in the same second keep their order; events that match no step are never read.
 */
export function funnelQuery(scope: Scope, steps: readonly FunnelStep[], windowSeconds: number, limits: QueryLimits = DEFAULT_LIMITS, filters?: CompiledFilters): BuiltQuery {
  const conditions = steps.map(stepCondition)
  return {
    query: `SELECT level, count() AS visitors
FROM (
    SELECT anon_id, windowFunnel({window_ms:UInt64})(toUInt64(toUnixTimestamp64Milli(ts)), ${conditions.join(', ')}) AS level
    FROM ${DB}.events
    WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND anon_id != ''
      AND ts >= parseDateTimeBestEffort({from:String}, {tz:String}) AND ts < parseDateTimeBestEffort({to:String}, {tz:String})
      AND (${conditions.join(' OR ')})${filters ? ` AND ${keptWhere(filters)}` : ''}
    GROUP BY anon_id
)
WHERE level > 0
GROUP BY level ORDER BY level
${settings(limits)}`,
    query_params: { ...scopeParams(scope), ...(filters?.params ?? {}), ...stepParams(steps), window_ms: windowSeconds * 1000 },
  }
}

export interface FunnelCounts {
  visitors: number | null
  conversion: number | null
}

/**
 * From visitors per level to visitors reaching each step (level ≥ step). A step reached by fewer
 * than k visitors is null, and so is every later one; conversion needs both it and the step before.
 */
export function kAnonymousFunnel(levels: readonly { level: number; visitors: number }[], stepCount: number, k: number): FunnelCounts[] {
  const out: FunnelCounts[] = []
  let previous: number | null = null
  for (let step = 1; step <= stepCount; step++) {
    const reached = levels.filter((l) => l.level >= step).reduce((sum, l) => sum + l.visitors, 0)
    const shown: number | null = (step === 1 || previous !== null) && reached >= k ? reached : null
    const conversion = shown !== null && previous !== null && previous > 0 ? shown / previous : null
    out.push({ visitors: shown, conversion })
    previous = shown
  }
  return out
}
