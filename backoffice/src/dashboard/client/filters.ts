// The `filters` query parameter in the Plausible v1 syntax the stats API takes: clauses joined by `;`
// (AND), each `<dimension><op><values>`, values joined by `|` (OR); `\|`, `\;` and `\\` escape.

export type FilterOp = '==' | '!=' | '=~' | '!~'

export interface Filter {
  dimension: string
  op: FilterOp
  values: string[]
}

const CLAUSE = /^([a-z_]+|props\.[A-Za-z0-9_.-]{1,64})(==|!=|=~|!~)(.*)$/s

/** Splits on a separator that is not escaped, keeping escapes for the next step. */
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = []
  let current = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1]
      i++
    } else if (c === separator) {
      parts.push(current)
      current = ''
    } else current += c
  }
  parts.push(current)
  return parts
}

const unescapeValue = (value: string) => value.replace(/\\([\\|;])/g, '$1')
const escapeValue = (value: string) => value.replace(/[\\|;]/g, (c) => `\\${c}`)

/** The clauses of a `filters` value; a clause the page cannot read is dropped (the API would refuse it). */
export function parseFilters(text: string | null | undefined): Filter[] {
  if (!text) return []
  const filters: Filter[] = []
  for (const clause of splitUnescaped(text, ';')) {
    const match = CLAUSE.exec(clause)
    if (!match) continue
    const values = splitUnescaped(match[3]!, '|').map(unescapeValue)
    filters.push({ dimension: match[1]!, op: match[2] as FilterOp, values })
  }
  return filters
}

export function formatFilters(filters: readonly Filter[]): string {
  return filters.map((f) => `${f.dimension}${f.op}${f.values.map(escapeValue).join('|')}`).join(';')
}

/** A row click: "dimension is value", replacing an earlier "is" on the same dimension (as Plausible does). */
export function withFilter(filters: readonly Filter[], dimension: string, value: string): Filter[] {
  const kept = filters.filter((f) => !(f.dimension === dimension && f.op === '=='))
  return [...kept, { dimension, op: '==', values: [value] }]
}

export function withoutFilter(filters: readonly Filter[], index: number): Filter[] {
  return filters.filter((_, i) => i !== index)
}

/** The value a row of this dimension is filtered on, when one "is" clause names exactly one. */
export function activeValue(filters: readonly Filter[], dimension: string): string | undefined {
  const f = filters.find((c) => c.dimension === dimension && c.op === '==')
  return f && f.values.length === 1 ? f.values[0] : undefined
}

const DIMENSION_LABELS: Readonly<Record<string, string>> = {
  url_path: 'Page',
  entry_page: 'Entry page',
  exit_page: 'Exit page',
  referrer_host: 'Referrer',
  channel: 'Channel',
  utm_source: 'UTM source',
  utm_medium: 'UTM medium',
  utm_campaign: 'UTM campaign',
  utm_term: 'UTM term',
  utm_content: 'UTM content',
  country: 'Country',
  browser: 'Browser',
  os: 'OS',
  device_type: 'Device',
  type: 'Event type',
  name: 'Event',
  goal: 'Goal',
}

export function dimensionLabel(dimension: string): string {
  if (dimension.startsWith('props.')) return `Property ${dimension.slice(6)}`
  return DIMENSION_LABELS[dimension] ?? dimension
}

const OP_LABELS: Readonly<Record<FilterOp, string>> = { '==': 'is', '!=': 'is not', '=~': 'contains', '!~': 'does not contain' }

/** A chip's words, e.g. "Country is DE or FR". */
export function filterLabel(f: Filter, valueLabel: (dimension: string, value: string) => string = (_d, v) => v): string {
  return `${dimensionLabel(f.dimension)} ${OP_LABELS[f.op]} ${f.values.map((v) => valueLabel(f.dimension, v)).join(' or ')}`
}
