import {
  dimensionLevel,
  type EventDimension,
  type FilterClause,
  type FilterOp,
  propKey,
  type SiteConfig,
  StatsErrorCode,
  type VisitDimension,
  WAREHOUSE_DATABASE as DB,
} from '@atspark/schemas'
import { goalPredicate, resolveGoal } from './goals.js'
import { StatsRequestError } from './request-error.js'

/**
 * Parsed filters (schemas/stats-filters.ts) as SQL over raw `events`. Only whitelisted identifiers reach
 * the text; every value (and prop key) travels as a query parameter. Event-level clauses test each event.
 * A visit's source (channel, utm_*) and entry page are stamped on every event of the visit by the processor
 * at write time, so their clauses test each event's column too, but only events with a session (an event
 * without a visit matches no visit-level clause, `==` or `!=`). exit_page is known only at query time: its
 * clauses test the visit (session) an event belongs to, computed from all of that visit's events.
 */

/** Event-level dimensions and their columns. */
export const EVENT_COLUMNS: Record<EventDimension, string> = {
  url_path: 'url_path',
  referrer_host: 'referrer_host',
  country: 'country',
  browser: 'browser',
  os: 'os',
  device_type: 'device_type',
  type: 'type',
  name: 'name',
}

/** The visit-level dimensions the processor stamps on each event of a visit: their columns hold the visit's value. */
export type StampedDimension = Exclude<VisitDimension, 'exit_page'>

export const STAMPED_COLUMNS: Record<StampedDimension, string> = {
  entry_page: 'entry_page',
  channel: 'channel',
  utm_source: 'utm_source',
  utm_medium: 'utm_medium',
  utm_campaign: 'utm_campaign',
  utm_term: 'utm_term',
  utm_content: 'utm_content',
}

export const isStamped = (dimension: string): dimension is StampedDimension => Object.hasOwn(STAMPED_COLUMNS, dimension)

/** A visit's exit page, the one visit-level value computed at query time: its last pageview's path. */
export const EXIT_PAGE = "argMaxIf(url_path, ts, type = 'pageview')"

/** An event has a visit: the stamped columns speak for it only then. */
const HAS_SESSION = "session_id != ''"

/** The value of an event-level dimension or `props.<key>` (the key a parameter): '' when the event lacks the prop. */
export function eventValue(dimension: string, keyParam: string, params: Record<string, unknown>): string {
  const key = propKey(dimension)
  if (key !== undefined) {
    params[keyParam] = key
    return `props[{${keyParam}:String}]`
  }
  // A stamped column is a LowCardinality(String) already: tested as it is, its dictionary once per part.
  if (isStamped(dimension)) return STAMPED_COLUMNS[dimension]
  const column = EVENT_COLUMNS[dimension as EventDimension]
  if (!column) throw new Error(`not an event dimension: ${dimension}`)
  return `toString(${column})`
}

/** The un-negated test of an op on an expression: `is`/`is_not` by equality, `contains`/`not_contains` case-insensitively. */
function positiveTest(expr: string, op: FilterOp, param: string): string {
  return op === 'is' || op === 'is_not' ? `${expr} IN {${param}:Array(String)}` : `multiSearchAnyCaseInsensitiveUTF8(${expr}, {${param}:Array(String)})`
}

const isNegative = (op: FilterOp) => op === 'is_not' || op === 'not_contains'

export interface CompiledClause {
  clause: FilterClause
  /** `event`: a test over each event (stamped visit values included); `visit`: over the whole visit (exit_page). */
  level: 'event' | 'visit'
  /** A stamped visit value: only events with a session pass the clause, whatever its op. */
  session?: boolean
  /** The clause's test with its op made positive (is / contains / goal completed); over an event, or for a visit an aggregate over its events. */
  positive: string
  /** `!=` / `!~`: the clause keeps what fails `positive`. */
  negative: boolean
  /** For a visit-level clause: a test over one event that some event of every matching visit passes (to narrow the visits read first). */
  someEvent?: string
  /** For an event-level (prop, stamped) clause other than goal: the event's value, and the parameter holding the clause's values. */
  value?: string
  param?: string
  /** For a visit-level clause: the visit's value, an aggregate over its events (EXIT_PAGE). */
  visitValue?: string
}

export interface CompiledFilters {
  clauses: CompiledClause[]
  params: Record<string, unknown>
  /** Some clause tests the whole visit at query time (exit_page). */
  hasVisit: boolean
  /** Some clause is visit-level (stamped or not): events without a session are kept by none. */
  needsSession: boolean
}

export const NO_FILTERS: CompiledFilters = { clauses: [], params: {}, hasVisit: false, needsSession: false }

/** Compiles clauses; goal values resolve against the site's goals (an unknown one is a 400 on `filters`). */
export function compileFilters(clauses: readonly FilterClause[], site: Pick<SiteConfig, 'goals'>): CompiledFilters {
  const params: Record<string, unknown> = {}
  const compiled = clauses.map((clause, i): CompiledClause => {
    const level = dimensionLevel(clause.dimension)
    const negative = isNegative(clause.op)
    const p = `f${i}`
    if (level === 'goal') {
      const tests = clause.values.map((v, j) => {
        const goal = resolveGoal(v, site, 'filters', StatsErrorCode.invalidFilter)
        const g = goalPredicate(goal, `${p}_${j}`)
        Object.assign(params, g.params)
        return g.sql
      })
      return { clause, level: 'event', positive: `(${tests.join(' OR ')})`, negative }
    }
    params[p] = clause.values
    if (level === 'visit' && isStamped(clause.dimension)) {
      // Stamped on every event of the visit: a test of the event's own column, for events with a session only. The
      // LowCardinality column first: the session strings are then read only where it holds (30 % less CPU measured).
      const value = eventValue(clause.dimension, `${p}_key`, params)
      return { clause, level: 'event', session: true, positive: `(${positiveTest(value, clause.op, p)} AND ${HAS_SESSION})`, negative, value, param: p }
    }
    if (level === 'visit') {
      // The exit page is one of the visit's pageviews' paths: some pageview of every matching visit passes the test.
      const someEvent = `(type = 'pageview' AND ${positiveTest('url_path', clause.op, p)})`
      return { clause, level: 'visit', positive: `(${positiveTest(EXIT_PAGE, clause.op, p)})`, negative, someEvent, param: p, visitValue: EXIT_PAGE }
    }
    if (level === 'event' || level === 'prop') {
      const value = eventValue(clause.dimension, `${p}_key`, params)
      return { clause, level: 'event', positive: `(${positiveTest(value, clause.op, p)})`, negative, value, param: p }
    }
    throw new StatsRequestError(`filter on ${clause.dimension}: not a dimension`, StatsErrorCode.invalidFilter, 'filters')
  })
  return { clauses: compiled, params, hasVisit: compiled.some((c) => c.level === 'visit'), needsSession: compiled.some((c) => c.level === 'visit' || c.session === true) }
}

/** A clause's test with its sign: the positive test, or its negation (for a stamped value, still only events with a session). */
const signed = (c: CompiledClause) => (c.negative ? (c.session ? `(${HAS_SESSION} AND NOT ${c.positive})` : `NOT ${c.positive}`) : c.positive)

/** An event has value number `i` (1-based) of a clause's list: for a stamped value, only an event with a session. */
const hasListValue = (c: CompiledClause, i: number) => `${c.value} = {${c.param}:Array(String)}[${i}]${c.session ? ` AND ${HAS_SESSION}` : ''}`

const and = (parts: readonly string[]) => (parts.length === 0 ? '1' : parts.join(' AND '))

/** Every event-level clause (but the one at `skip`) over one event; '1' when none. */
export function eventCondition(f: CompiledFilters, skip = -1): string {
  return and(f.clauses.filter((c, i) => c.level === 'event' && i !== skip).map(signed))
}

/**
 * Every visit-level clause (but the one at `skip`) as an aggregate over one visit's events, in a query
 * grouped by session_id: '1' when there are none; an event without a session has no visit, so matches none.
 */
export function visitCondition(f: CompiledFilters, skip = -1): string {
  const parts = f.clauses.filter((c, i) => c.level === 'visit' && i !== skip).map(signed)
  return f.hasVisit ? and(["max(session_id != '')", ...parts]) : '1'
}

/**
 * The events the filters keep and, per `!=`/`!~` clause, those only that clause removes: the complement
 * an answer would leak by differencing. In grouped-by-visit form (aggregate, visit breakdowns): row
 * conditions to count with -If, each multiplied by a visit condition.
 */
export interface VisitFormFilters {
  kept: { row: string; visit: string }
  removed: { index: number; row: string; visit: string }[]
}

export function visitForm(f: CompiledFilters): VisitFormFilters {
  const removed = f.clauses.flatMap((c, i) => {
    if (!c.negative) return []
    return c.level === 'event'
      ? [{ index: i, row: and([eventCondition(f, i), c.positive]), visit: visitCondition(f) }]
      : [{ index: i, row: eventCondition(f), visit: and([visitCondition(f, i), c.positive]) }]
  })
  return { kept: { row: eventCondition(f), visit: visitCondition(f) }, removed }
}

/** Raw events of the range. */
export const RANGE = 'ts >= parseDateTimeBestEffort({from:String}, {tz:String}) AND ts < parseDateTimeBestEffort({to:String}, {tz:String})'

/** Raw events of the range widened by a day either side: a visit crossing from or to is measured whole. */
export const WIDE_RANGE =
  'ts >= parseDateTimeBestEffort({from:String}, {tz:String}) - INTERVAL 1 DAY AND ts < parseDateTimeBestEffort({to:String}, {tz:String}) + INTERVAL 1 DAY'

/**
 * The visits that can hold a kept event, as a cheap first cut: those with an event passing every positive
 * event-level clause at once, and for each positive exit_page clause a pageview that could be its exit. A visit's
 * source (channel, utm_*) is stamped alike on all of its events, so those tests cut the read directly, with no
 * subquery when they are all there is; the entry page is not (events stamped before the visit's first pageview hold
 * ''), so it goes through the subquery. Exact tests follow on the visits it leaves; undefined when no clause is positive.
 */
export function candidateVisits(f: CompiledFilters, range: string): string | undefined {
  const positives = f.clauses.filter((c) => !c.negative)
  const direct = positives.filter((c) => c.session === true && c.clause.dimension !== 'entry_page').map((c) => c.positive)
  const eventLevel = positives.filter((c) => c.level === 'event').map((c) => c.positive)
  const visitLevel = positives.filter((c) => c.level === 'visit' && c.someEvent !== undefined).map((c) => c.someEvent as string)
  if (eventLevel.length + visitLevel.length === 0) return undefined
  // A stamped source clause holds for every event of a matching visit: it alone cuts to whole visits, and a subquery
  // narrowing further by the other clauses costs a second read of the range (measured: about twice the CPU).
  if (visitLevel.length === 0 && direct.length > 0) return and(direct)
  const tests = [...(eventLevel.length > 0 ? [and(eventLevel)] : []), ...visitLevel]
  const having = tests.length === 1 ? '' : ` GROUP BY session_id HAVING ${tests.map((t) => `countIf(${t}) > 0`).join(' AND ')}`
  const where = tests.length === 1 ? tests[0] : tests.map((t) => `(${t})`).join(' OR ')
  const narrow = direct.length > 0 ? ` AND ${and(direct)}` : ''
  const subquery = `session_id IN (SELECT session_id FROM ${DB}.events WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${range}${narrow} AND (${where})${having})`
  return and([...direct, subquery])
}

/** The visits of the scope whose value passes `having`: an IN-subquery, no join; the candidates cut first. */
function visitsWhere(f: CompiledFilters, having: string): string {
  const cut = candidateVisits(f, WIDE_RANGE)
  return `session_id IN (SELECT session_id FROM ${DB}.events WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND session_id != '' AND ${WIDE_RANGE}${cut ? ` AND ${cut}` : ''} GROUP BY session_id HAVING ${having})`
}

/**
 * Row form, for queries over events one by one (timeseries, event breakdowns, adoption, funnels):
 * `where` narrows to events every positive clause keeps (visit-level ones via one IN-subquery); `kept`
 * then applies the negative clauses, and `removed[j]` is what the j-th negative clause alone removes.
 */
export interface RowFormFilters {
  where: string
  /** The visit-level set test alone, for a PREWHERE: read first, the other columns only for the rows it keeps ('' when none). */
  prewhere: string
  kept: string
  removed: { index: number; sql: string }[]
}

export function rowForm(f: CompiledFilters): RowFormFilters {
  const where: string[] = f.clauses.filter((c) => c.level === 'event' && !c.negative).map((c) => c.positive)
  const positiveVisit = f.clauses.filter((c) => c.level === 'visit' && !c.negative).map((c) => c.positive)
  if (f.needsSession) where.push(HAS_SESSION)
  const prewhere = positiveVisit.length > 0 ? visitsWhere(f, and(positiveVisit)) : ''
  // A negative clause as a test that keeps: NOT over the event, or the event's visit not among the matching ones.
  const keeps = f.clauses.flatMap((c, i) => (c.negative ? [{ index: i, keep: keepTest(f, c) }] : []))
  return {
    where: and(where),
    prewhere,
    kept: and(keeps.map((k) => k.keep)),
    removed: keeps.map((k) => ({ index: k.index, sql: and([...keeps.filter((o) => o !== k).map((o) => o.keep), `NOT (${k.keep})`]) })),
  }
}

/** A clause as a test over one event: event-level directly, visit-level by its own IN-subquery of matching visits. */
function keepTest(f: CompiledFilters, c: CompiledClause): string {
  if (c.level === 'event') return signed(c)
  const inVisits = visitsWhere(alone(f, c), c.positive)
  return c.negative ? `NOT ${inVisits}` : inVisits
}

/**
 * A distinct count only compared with k: uniqUpToIf(k) counts exactly up to its bound and keeps no more (far cheaper
 * than uniqExactIf, which it falls back to when k is not an integer from 1 to 100 or unknown).
 */
export function upToK(k: number | undefined): string {
  const bound = k === undefined ? Number.NaN : Math.floor(k)
  return Number.isInteger(bound) && bound >= 1 && bound <= 100 ? `uniqUpToIf(${bound})` : 'uniqExactIf'
}

/** The values `value` takes, on the events of `range` that `matched` keeps, with fewer than k visitors each (counted by `distinct`). */
const smallValues = (value: string, range: string, matched: string, distinct: string) =>
  `SELECT ${value} FROM ${DB}.events WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${range} AND ${matched} GROUP BY ${value} HAVING ${distinct}(cityHash64(anon_id), anon_id != '') < {guard_k:UInt32}`

/**
 * What differencing two filtered answers could single out, over the whole range: columns n_removed_* of visitors
 * that must each be 0 or at least k, else the answer is hidden whole.
 * - every clause: the visitors of the events every other clause keeps and it drops (a query without it differs by them);
 * - every `==`/`!=` list of 2+ values: per value, its visitors under the other clauses (a list without it differs by them);
 * - every `=~`/`!~`: the visitors of the values it matches that have 1 to k−1 visitors each, together (a list of the
 *   matched values with k or more differs by them; a list naming a smaller one is hidden by the previous rule).
 * Event-level clauses only: with a visit-level one the guard is read grouped by visit (differencingByVisit).
 */
export function differencingColumns(f: CompiledFilters, k: number): string[] {
  const distinct = upToK(k)
  const visitor = `${distinct}(cityHash64(anon_id), anon_id != '' AND `
  const tests = f.clauses.map(signed)
  const others = (j: number) => and(tests.filter((_, i) => i !== j))
  return f.clauses.flatMap((c, j) => {
    const cols = [`${visitor}${others(j)} AND NOT (${tests[j]})) AS n_removed_g${j}`]
    const list = (c.clause.op === 'is' || c.clause.op === 'is_not') && c.clause.values.length > 1
    if (c.value === undefined || c.param === undefined) return cols
    const { value } = c
    if (list) for (let i = 0; i < c.clause.values.length; i++) cols.push(`${visitor}${others(j)} AND ${hasListValue(c, i + 1)}) AS n_removed_a${j}_${i}`)
    if (c.clause.op === 'contains' || c.clause.op === 'not_contains') {
      const matched = `${others(j)} AND ${c.positive}`
      cols.push(`${visitor}${matched} AND ${value} IN (${smallValues(value, RANGE, matched, distinct)})) AS n_removed_s${j}`)
    }
    return cols
  })
}

/**
 * The same columns as differencingColumns from one read grouped by visit: each visit-level clause is tested once per
 * visit (m_<i>), each event-level one per event, so no IN-subquery per clause. Events are counted in the range, visits
 * valued over the range widened by a day (as visitsWhere); an event without a session is one pseudo-visit per visitor
 * that no visit-level clause matches. With two or more positive clauses every column needs one of them to hold, so
 * only visits with an event passing some positive test are read. Undefined when there are no clauses.
 */
export function differencingByVisit(f: CompiledFilters, k: number): string | undefined {
  if (f.clauses.length === 0) return undefined
  const cols = differencingVisitColumns(f, k, RANGE, '')
  const cut = differencingCut(f, WIDE_RANGE)
  return `SELECT ${cols.outer.join(',\n    ')}
FROM (
    SELECT any(cityHash64(anon_id)) AS visitor, max(anon_id != '') AS has_visitor, ${cols.inner.join(', ')}
    FROM ${DB}.events${cut ? `\n    PREWHERE ${cut}` : ''}
    WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${WIDE_RANGE}
    GROUP BY if(session_id = '', cityHash64(anon_id), cityHash64(session_id))
)`
}

/**
 * differencingByVisit's columns for one period (events counted where `range` holds), for a query grouped by visit
 * with columns `visitor` and `has_visitor`: `inner` per visit, `outer` over the visits (n_removed_<name><suffix>).
 */
export function differencingVisitColumns(f: CompiledFilters, k: number, range: string, suffix: string): { inner: string[]; outer: string[] } {
  const distinct = upToK(k)
  const inner: string[] = []
  const outer: string[] = []
  f.clauses.forEach((c, i) => {
    if (c.level === 'visit') inner.push(`toUInt8(max(session_id != '') AND ${c.positive}) AS m_${i}${suffix}`)
  })
  const keepVisit = (i: number) => (f.clauses[i]!.negative ? `m_${i}${suffix} = 0` : `m_${i}${suffix} = 1`)
  const othersRow = (j: number) => f.clauses.flatMap((c, i) => (i !== j && c.level === 'event' ? [signed(c)] : []))
  const othersVisit = (j: number) => f.clauses.flatMap((c, i) => (i !== j && c.level === 'visit' ? [keepVisit(i)] : []))
  const column = (name: string, row: string[], visit: string[]) => {
    inner.push(`countIf(${range} AND ${and(row)}) AS c_${name}${suffix}`)
    outer.push(`${distinct}(visitor, has_visitor AND c_${name}${suffix} > 0 AND ${and(visit)}) AS n_removed_${name}${suffix}`)
  }
  const tests = f.clauses.map((c) => keepTest(f, c))
  const others = (j: number) => and(tests.filter((_, i) => i !== j))
  f.clauses.forEach((c, j) => {
    if (c.level === 'event') column(`g${j}`, [...othersRow(j), `NOT ${signed(c)}`], othersVisit(j))
    else column(`g${j}`, othersRow(j), [...othersVisit(j), `NOT (${keepVisit(j)})`])
    const list = (c.clause.op === 'is' || c.clause.op === 'is_not') && c.clause.values.length > 1
    // A visit-level list: per value, the visits having it (tested once per visit).
    if (list && c.visitValue !== undefined && c.param !== undefined)
      for (let i = 0; i < c.clause.values.length; i++) {
        inner.push(`toUInt8(max(session_id != '') AND ${c.visitValue} = {${c.param}:Array(String)}[${i + 1}]) AS mv_${j}_${i}${suffix}`)
        column(`a${j}_${i}`, othersRow(j), [...othersVisit(j), `mv_${j}_${i}${suffix} = 1`])
      }
    if (c.value === undefined || c.param === undefined) return
    const { value } = c
    if (list) for (let i = 0; i < c.clause.values.length; i++) column(`a${j}_${i}`, [...othersRow(j), hasListValue(c, i + 1)], othersVisit(j))
    if (c.clause.op === 'contains' || c.clause.op === 'not_contains') {
      // The small values matched are found as differencingColumns finds them (smallValues, over the period), then counted per visit.
      const small = smallValues(value, range, `${others(j)} AND ${c.positive}`, distinct)
      column(`s${j}`, [...othersRow(j), c.positive, `${value} IN (${small})`], othersVisit(j))
    }
  })
  return { inner, outer }
}

/** With two or more positive clauses every differencing column needs one to hold: only visits with an event passing some positive test count (undefined otherwise). */
export function differencingCut(f: CompiledFilters, wideRange: string): string | undefined {
  const positives = f.clauses.filter((c) => !c.negative).map((c) => (c.level === 'event' ? c.positive : (c.someEvent as string)))
  if (positives.length < 2) return undefined
  return `session_id IN (SELECT session_id FROM ${DB}.events WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND ${wideRange} AND (${positives.map((t) => `(${t})`).join(' OR ')}))`
}

/**
 * The same for the guard read event by event (no visit-level clause): with two or more positive clauses, every
 * differencing column needs the other clauses to hold, so one positive test at least; the rows failing all of them are
 * never read past the PREWHERE (undefined otherwise: a lone positive clause's drop is everything it does not match).
 */
export function differencingRowCut(f: CompiledFilters): string | undefined {
  if (f.hasVisit) return undefined
  const positives = f.clauses.filter((c) => !c.negative).map((c) => c.positive)
  return positives.length < 2 ? undefined : positives.map((t) => `(${t})`).join(' OR ')
}

/** One clause made positive, alone: the visits it matches are cut by its own test first. */
const alone = (f: CompiledFilters, c: CompiledClause): CompiledFilters => ({ clauses: [{ ...c, negative: false }], params: f.params, hasVisit: true, needsSession: true })

/** Every event the filters keep, as one WHERE condition (for answers with no complement columns). */
export function keptWhere(f: CompiledFilters): string {
  const r = rowForm(f)
  return and([r.where, r.prewhere, r.kept].filter((s) => s !== '1' && s !== ''))
}
