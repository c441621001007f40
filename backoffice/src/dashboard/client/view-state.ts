import { type Filter, formatFilters, parseFilters } from './filters.js'
import { customRangeProblem, PRESET_DAYS, type PresetDays, type RangeChoice } from './range.js'

/**
 * What the page shows, kept in the URL's query (`?site=&days=` or `&from=&to=`, `&filters=`) so a
 * reload, back/forward or a copied URL shows the same; never the key.
 */
export interface ViewState {
  site?: string
  range: RangeChoice
  filters: Filter[]
  feature?: string
}

export const DEFAULT_RANGE: RangeChoice = { kind: 'preset', days: 30 }

export function parseViewState(search: string): ViewState {
  const params = new URLSearchParams(search.replace(/^[?#]/, ''))
  const days = Number(params.get('days'))
  const from = params.get('from') ?? ''
  const to = params.get('to') ?? ''
  let range = DEFAULT_RANGE
  if ((PRESET_DAYS as readonly number[]).includes(days)) range = { kind: 'preset', days: days as PresetDays }
  else if (from && to && !customRangeProblem(from, to)) range = { kind: 'custom', from, to }
  const site = params.get('site') || undefined
  const feature = params.get('feature') || undefined
  return { range, filters: parseFilters(params.get('filters')), ...(site ? { site } : {}), ...(feature ? { feature } : {}) }
}

export function formatViewState(state: ViewState): string {
  const params = new URLSearchParams()
  if (state.site) params.set('site', state.site)
  if (state.range.kind === 'preset') params.set('days', String(state.range.days))
  else {
    params.set('from', state.range.from)
    params.set('to', state.range.to)
  }
  if (state.filters.length > 0) params.set('filters', formatFilters(state.filters))
  if (state.feature) params.set('feature', state.feature)
  return `?${params.toString()}`
}
