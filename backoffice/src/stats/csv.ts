import { StatsErrorCode, StatsFormat } from '@atspark/schemas'
import { stringify } from 'csv-stringify/sync'
import type { MiddlewareHandler } from 'hono'

/**
 * `format=csv` on every stats endpoint: the endpoint answers as always (JSON, its k rules applied), and this
 * middleware turns that answer into CSV, so a CSV can never show more than the JSON does. Values are
 * visitor-supplied (paths, names, referrers): quoted per RFC 4180, and a text cell a spreadsheet would run
 * as a formula (= + - @ tab CR first) starts with an apostrophe.
 */

export type Cell = string | number | boolean | null
export interface CsvTable {
  header: string[]
  rows: Cell[][]
}

/** RFC 4180 (CRLF records, quotes doubled, fields with a line break quoted too); text cells formula-escaped, numbers never. */
export function encodeCsv(table: CsvTable): string {
  return stringify([table.header, ...table.rows], {
    record_delimiter: 'windows',
    escape_formulas: true,
    // A lone LF or CR inside a value must be quoted as well, not only the CRLF record delimiter.
    quoted_match: /[\r\n]/,
    cast: { boolean: (v) => String(v) },
  })
}

/** The row value of a breakdown's `other`: a literal that no real value can be mistaken for in a spreadsheet. */
export const OTHER_VALUE = '(other)'
/** The total row of the consent answer. */
export const TOTAL_VALUE = '(total)'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A JSON value as a cell: null/absent empty, arrays space-joined, objects as JSON text (none of the answers' rows has one). */
function cell(v: unknown): Cell {
  if (v === null || v === undefined) return null
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v
  if (Array.isArray(v)) return v.map((x) => String(x)).join(' ')
  return JSON.stringify(v)
}

/** Rows of objects as a table: the columns are every key, in first-seen order. */
export function objectsTable(rows: readonly Json[], lead: string[] = []): CsvTable {
  const header = [...lead]
  for (const row of rows) for (const key of Object.keys(row)) if (!header.includes(key)) header.push(key)
  return { header, rows: rows.map((row) => header.map((key) => cell(row[key]))) }
}

/** The array of rows each answer carries, by its field name. */
const ROW_FIELDS = ['buckets', 'rows', 'steps', 'sources', 'goals', 'sites', 'minutes'] as const

function aggregateTable(body: Json): CsvTable {
  const metrics = isObject(body.metrics) ? body.metrics : {}
  const rows = Object.entries(metrics).map(([metric, m]) => ({ metric, ...(isObject(m) ? m : {}), hidden: body.hidden }))
  return objectsTable(rows, ['metric'])
}

function breakdownTable(body: Json): CsvTable {
  const rows = Array.isArray(body.rows) ? (body.rows as Json[]) : []
  const other = isObject(body.other) ? [{ value: OTHER_VALUE, ...body.other }] : []
  return objectsTable([...rows, ...other], ['value'])
}

function consentTable(body: Json): CsvTable {
  const sources = Array.isArray(body.sources) ? (body.sources as Json[]) : []
  return objectsTable([...sources, { source: TOTAL_VALUE, grants: body.grants, refusals: body.refusals, grant_rate: body.grant_rate }], ['source'])
}

/** One row per cohort and period: offset 0 is the cohort itself. */
function cohortsTable(body: Json): CsvTable {
  const cohorts = Array.isArray(body.cohorts) ? (body.cohorts as Json[]) : []
  const rows = cohorts.flatMap((c) => [
    { cohort: c.cohort, hidden: c.hidden, offset: 0, t: c.cohort, accounts: c.accounts },
    ...(Array.isArray(c.retained) ? (c.retained as Json[]) : []).map((r) => ({ cohort: c.cohort, hidden: c.hidden, offset: r.offset, t: r.t, accounts: r.accounts })),
  ])
  return objectsTable(rows, ['cohort', 'hidden', 'offset', 't', 'accounts'])
}

/** A total row per audience ('(all)'), then its names; `hidden` says which human counts are withheld. */
function integrationTable(body: Json): CsvTable {
  const humans = isObject(body.humans) ? body.humans : {}
  const bots = isObject(body.bots) ? body.bots : {}
  const names = (x: Json) => (Array.isArray(x.by_name) ? (x.by_name as Json[]) : [])
  const rows = [
    { audience: 'humans', type: '(all)', name: '', events: humans.events, hidden: humans.hidden },
    ...names(humans).map((n) => ({ audience: 'humans', type: n.type, name: n.name, events: n.events, hidden: n.events === null })),
    { audience: 'bots', type: '(all)', name: '', events: bots.events, hidden: false },
    ...names(bots).map((n) => ({ audience: 'bots', type: n.type, name: n.name, events: n.events, hidden: false })),
  ]
  return objectsTable(rows)
}

/** Every stats endpoint's answer as one table; `endpoint` is its path under the stats API (e.g. `adoption/cohorts`). */
export function statsTable(endpoint: string, body: unknown): CsvTable {
  if (!isObject(body)) return { header: [], rows: [] }
  switch (endpoint) {
    case 'aggregate':
      return aggregateTable(body)
    case 'breakdown':
      return breakdownTable(body)
    case 'consent':
      return consentTable(body)
    case 'adoption/cohorts':
      return cohortsTable(body)
    case 'realtime/integration':
      return integrationTable(body)
  }
  const field = ROW_FIELDS.find((f) => Array.isArray(body[f]))
  return objectsTable(field ? (body[field] as Json[]) : [])
}

const STATS_PATH = /(?:^|\/stats)\/([a-z/]+?)\/?$/

/** The endpoint a request path names: what follows `/stats/` (or the whole path, inside the stats app). */
export function endpointOf(path: string): string {
  return STATS_PATH.exec(path)?.[1] ?? 'stats'
}

/** Filename characters only: a site id or a wall time with `:` must not break the header. */
export const filenamePart = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-')

/** `<site>-<endpoint>-<from>-<to>.csv`; the parts an answer lacks (realtime has no range) are left out. */
export function csvFilename(endpoint: string, body: unknown): string {
  const b = isObject(body) ? body : {}
  const parts = [b.site ?? b.org_id, endpoint, b.from, b.to].filter((p): p is string => typeof p === 'string' && p !== '')
  return `${parts.map(filenamePart).join('-')}.csv`
}

/** 400 for a format this API does not speak; csv converts a 200 JSON answer; anything else passes untouched. */
export function csvFormat(): MiddlewareHandler {
  return async (c, next) => {
    const format = c.req.query('format')
    if (format === undefined) return next()
    const parsed = StatsFormat.safeParse(format)
    if (!parsed.success) return c.json({ error: StatsErrorCode.invalidRequest, message: `format must be json or csv, not ${JSON.stringify(format.slice(0, 40))}`, param: 'format' }, 400)
    await next()
    if (parsed.data !== 'csv' || c.res.status !== 200 || !c.res.headers.get('content-type')?.startsWith('application/json')) return
    const body: unknown = await c.res.json()
    const endpoint = endpointOf(c.req.path)
    c.res = new Response(encodeCsv(statsTable(endpoint, body)), {
      status: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${csvFilename(endpoint, body)}"`,
      },
    })
    // Hono carries the JSON answer's headers over: its length is not the CSV's.
    c.res.headers.delete('content-length')
  }
}
