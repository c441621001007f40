import { z } from 'zod'

/**
 * The stats API's `filters` parameter, in the syntax of Plausible's v1 API: clauses joined by `;`
 * (AND), each `<dimension><op><values>` with ops `==` `!=` `=~` `!~` and values joined by `|` (OR);
 * `\|`, `\;` and `\\` escape. Pure parsing only: the SQL lives in the back office.
 */

export const FILTER_MAX_CLAUSES = 10
export const FILTER_MAX_VALUES = 20
export const FILTER_MAX_VALUE_CHARS = 200
/** Longest `filters` string: every clause at its limits, escapes doubling each value. */
export const FILTER_MAX_CHARS = FILTER_MAX_CLAUSES * (80 + FILTER_MAX_VALUES * (2 * FILTER_MAX_VALUE_CHARS + 1))

export const FILTER_ERROR_CODE = 'invalid_filter'

/** Dimensions whose value each event carries. */
export const EVENT_DIMENSIONS = ['url_path', 'referrer_host', 'country', 'browser', 'os', 'device_type', 'type', 'name'] as const
export type EventDimension = (typeof EVENT_DIMENSIONS)[number]

/** Dimensions of a visit (session), computed from its events: entry/exit page, and the source of its first event. */
export const VISIT_DIMENSIONS = ['entry_page', 'exit_page', 'channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const
export type VisitDimension = (typeof VISIT_DIMENSIONS)[number]

/** A custom prop's key as a dimension: `props.<key>`. */
export const PROP_DIMENSION = /^props\.([A-Za-z0-9_.-]{1,64})$/
/** A `props.<key>` dimension. */
export type PropDimension = `props.${string}`

/** Every dimension a filter may name (goal only filters: events that complete the goal). */
export type FilterDimension = EventDimension | VisitDimension | PropDimension | 'goal'

export type DimensionLevel = 'event' | 'visit' | 'prop' | 'goal'

/** Where a dimension's value lives, or undefined for a name that is no dimension. */
export function dimensionLevel(dimension: string): DimensionLevel | undefined {
  if ((EVENT_DIMENSIONS as readonly string[]).includes(dimension)) return 'event'
  if ((VISIT_DIMENSIONS as readonly string[]).includes(dimension)) return 'visit'
  if (PROP_DIMENSION.test(dimension)) return 'prop'
  if (dimension === 'goal') return 'goal'
  return undefined
}

/** The prop key of a `props.<key>` dimension. */
export function propKey(dimension: string): string | undefined {
  return PROP_DIMENSION.exec(dimension)?.[1]
}

export const FILTER_OPS = { '==': 'is', '!=': 'is_not', '=~': 'contains', '!~': 'not_contains' } as const
export type FilterOp = (typeof FILTER_OPS)[keyof typeof FILTER_OPS]
/** The operators that keep what does not match: their complement must not single anyone out. */
export const NEGATIVE_OPS: readonly FilterOp[] = ['is_not', 'not_contains']

export interface FilterClause {
  dimension: FilterDimension
  op: FilterOp
  /** Alternatives (OR), unescaped. */
  values: string[]
}

/** A bad `filters` value: the message names the clause at fault. */
export class FilterSyntaxError extends Error {
  readonly code = FILTER_ERROR_CODE
}

/** Splits on `sep` where it is not escaped; escapes stay in the pieces (unescaped later). */
function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = []
  let current = ''
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string
    if (ch === '\\' && i + 1 < s.length) {
      current += ch + (s[i + 1] as string)
      i++
    } else if (ch === sep) {
      out.push(current)
      current = ''
    } else current += ch
  }
  out.push(current)
  return out
}

/** `\|` → `|`, `\;` → `;`, `\\` → `\`; any other backslash sequence is refused (it would mean something one day). */
function unescapeValue(s: string, clause: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string
    if (ch !== '\\') {
      out += ch
      continue
    }
    const next = s[i + 1]
    if (next !== '|' && next !== ';' && next !== '\\')
      throw new FilterSyntaxError(`filter "${clause}": a backslash escapes only |, ; or \\ (write \\\\ for a backslash)`)
    out += next
    i++
  }
  return out
}

const CLAUSE = /^\s*([A-Za-z0-9_.-]+)\s*(==|!=|=~|!~)(.*)$/s

/** Shortens a clause for an error message, so a huge value is not echoed whole. */
const quote = (clause: string) => (clause.length > 80 ? `${clause.slice(0, 77)}...` : clause)

/** Parses one clause; throws FilterSyntaxError naming it. */
export function parseFilterClause(text: string): FilterClause {
  const shown = quote(text)
  const m = CLAUSE.exec(text)
  if (!m) throw new FilterSyntaxError(`filter "${shown}": expected <dimension><op><values> with op ==, !=, =~ or !~`)
  const dimension = m[1] as string
  const op = FILTER_OPS[m[2] as keyof typeof FILTER_OPS]
  const level = dimensionLevel(dimension)
  if (level === undefined) {
    const hint = dimension.startsWith('props.') ? ' (prop keys are 1–64 of A-Z a-z 0-9 _ . -)' : ''
    throw new FilterSyntaxError(`filter "${shown}": unknown dimension ${dimension}${hint}`)
  }
  if (level === 'goal' && op !== 'is' && op !== 'is_not') throw new FilterSyntaxError(`filter "${shown}": goal takes == or != only`)
  const values = splitUnescaped(m[3] as string, '|').map((v) => unescapeValue(v, shown))
  if (values.length > FILTER_MAX_VALUES) throw new FilterSyntaxError(`filter "${shown}": at most ${FILTER_MAX_VALUES} values`)
  for (const v of values) {
    if (v.length > FILTER_MAX_VALUE_CHARS) throw new FilterSyntaxError(`filter "${shown}": a value is at most ${FILTER_MAX_VALUE_CHARS} characters`)
    if ((op === 'contains' || op === 'not_contains') && v === '') throw new FilterSyntaxError(`filter "${shown}": contains needs a non-empty value`)
    if (level === 'goal' && v === '') throw new FilterSyntaxError(`filter "${shown}": a goal is a configured goal's name, event:<name> or page:<pattern>`)
  }
  return { dimension: dimension as FilterDimension, op, values: [...new Set(values)] }
}

/** Parses a whole `filters` value; empty clauses (a trailing `;`) are skipped, so '' is no filter. */
export function parseFilters(text: string): FilterClause[] {
  if (text.length > FILTER_MAX_CHARS) throw new FilterSyntaxError(`filters is at most ${FILTER_MAX_CHARS} characters`)
  const clauses = splitUnescaped(text, ';').filter((c) => c.trim() !== '')
  if (clauses.length > FILTER_MAX_CLAUSES) throw new FilterSyntaxError(`at most ${FILTER_MAX_CLAUSES} filter clauses (got ${clauses.length})`)
  return clauses.map(parseFilterClause)
}

const escapeValue = (v: string) => v.replace(/[\\|;]/g, (c) => `\\${c}`)
const OP_TEXT: Record<FilterOp, string> = { is: '==', is_not: '!=', contains: '=~', not_contains: '!~' }

/** The clauses back as a `filters` string (what links and chips carry): parseFilters(formatFilters(x)) equals x. */
export function formatFilters(clauses: readonly FilterClause[]): string {
  return clauses.map((c) => `${c.dimension}${OP_TEXT[c.op]}${c.values.map(escapeValue).join('|')}`).join(';')
}

/** The parsed parameter: the text as given (echoed in answers) and its clauses. */
export interface ParsedFilters {
  text: string
  clauses: FilterClause[]
}

/** `filters` on every stats endpoint: absent or empty → undefined (no filter); a bad one is an issue coded invalid_filter. */
export const StatsFilters = z
  .string()
  .optional()
  .transform((text, ctx): ParsedFilters | undefined => {
    if (text === undefined) return undefined
    try {
      const clauses = parseFilters(text)
      return clauses.length === 0 ? undefined : { text, clauses }
    } catch (err) {
      if (!(err instanceof FilterSyntaxError)) throw err
      ctx.addIssue({ code: 'custom', message: err.message, params: { code: FILTER_ERROR_CODE }, input: text })
      return z.NEVER
    }
  })
  .describe(
    'Plausible v1 filters: clauses joined by ; (AND), each <dimension><op><values>, op == (is), != (is not), =~ (contains), !~ (does not contain), values joined by | (OR); \\| \\; \\\\ escape. Dimensions: url_path, referrer_host, country, browser, os, device_type, type, name, props.<key>, goal (event-level); entry_page, exit_page, channel, utm_source, utm_medium, utm_campaign, utm_term, utm_content (visit-level: keep the visits whose value matches). At most 10 clauses, 20 values, 200 characters a value.',
  )
  .meta({ example: 'country==DE|FR;url_path=~pricing' })

/** A goal as a request names it: a configured goal's name, or inline `event:<name>` / `page:<pattern>`. */
export type GoalRef = { kind: 'named'; name: string } | { kind: 'event'; match: string } | { kind: 'page'; match: string }

export const GOAL_MAX_CHARS = 200

/** A page goal's pattern: a path from `/`, `*` any characters but `/`, `**` any characters. */
export const GOAL_PAGE_PATTERN = /^\/[^\s]{0,199}$/

export function parseGoalRef(text: string): GoalRef {
  if (text.startsWith('event:')) return { kind: 'event', match: text.slice('event:'.length) }
  if (text.startsWith('page:')) return { kind: 'page', match: text.slice('page:'.length) }
  return { kind: 'named', name: text }
}

/** `goal`: a configured goal's name, or `event:<name>` / `page:<pattern>`. Whether a name is configured is the back office's check. */
export const StatsGoalParam = z
  .string()
  .min(1)
  .max(GOAL_MAX_CHARS + 6)
  .optional()
  .superRefine((text, ctx) => {
    if (text === undefined) return
    const ref = parseGoalRef(text)
    if (ref.kind === 'event' && (ref.match.length < 1 || ref.match.length > GOAL_MAX_CHARS))
      ctx.addIssue({ code: 'custom', message: `goal event:<name> needs a name of 1–${GOAL_MAX_CHARS} characters`, params: { code: 'invalid_request' } })
    if (ref.kind === 'page' && !GOAL_PAGE_PATTERN.test(ref.match))
      ctx.addIssue({ code: 'custom', message: 'goal page:<pattern> needs a path starting with / (* any characters but /, ** any characters)', params: { code: 'invalid_request' } })
  })
  .describe('a goal: a configured goal’s name (GET /goals), or event:<name>, or page:<pattern> (* = any characters but /, ** = any characters)')
