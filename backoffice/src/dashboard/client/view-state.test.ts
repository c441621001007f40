import { describe, expect, it } from 'vitest'
import { DEFAULT_RANGE, formatViewState, parseViewState, type ViewState } from './view-state.js'

describe('view state in the URL query', () => {
  it('round-trips a site, a preset or custom range, filters and a feature', () => {
    const states: ViewState[] = [
      { site: 'docs', range: { kind: 'preset', days: 7 }, filters: [], feature: 'export_csv' },
      { site: 'web', range: { kind: 'custom', from: '2026-01-01', to: '2026-01-31' }, filters: [{ dimension: 'country', op: '==', values: ['DE', 'FR'] }] },
      { site: 'web', range: DEFAULT_RANGE, filters: [{ dimension: 'url_path', op: '=~', values: ['/a;b|c\\d'] }, { dimension: 'props.plan', op: '!=', values: ['pro'] }] },
    ]
    for (const state of states) expect(parseViewState(formatViewState(state))).toEqual(state)
  })

  it('writes the filters in the API’s syntax, readable in the address bar', () => {
    const url = formatViewState({ site: 'web', range: DEFAULT_RANGE, filters: [{ dimension: 'country', op: '==', values: ['DE'] }, { dimension: 'url_path', op: '==', values: ['/pricing'] }] })
    expect(new URLSearchParams(url).get('filters')).toBe('country==DE;url_path==/pricing')
  })

  it('falls back to the last 30 days and no filters for anything it does not understand', () => {
    expect(parseViewState('')).toEqual({ range: DEFAULT_RANGE, filters: [] })
    expect(parseViewState('?days=12')).toEqual({ range: DEFAULT_RANGE, filters: [] })
    expect(parseViewState('?from=2026-02-01&to=2026-01-01')).toEqual({ range: DEFAULT_RANGE, filters: [] })
    expect(parseViewState('?filters=nonsense')).toEqual({ range: DEFAULT_RANGE, filters: [] })
  })

  it('never carries anything but site, range, filters and feature', () => {
    expect(formatViewState({ site: 'web', range: DEFAULT_RANGE, filters: [] })).toBe('?site=web&days=30')
    expect(parseViewState('?key=sk_secret&site=web')).toEqual({ site: 'web', range: DEFAULT_RANGE, filters: [] })
  })
})
