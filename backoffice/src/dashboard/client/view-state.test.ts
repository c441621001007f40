import { describe, expect, it } from 'vitest'
import { DEFAULT_RANGE, formatViewState, parseViewState } from './view-state.js'

describe('view state in the URL fragment', () => {
  it('round-trips a site, a preset or custom range and a feature', () => {
    for (const state of [
      { site: 'docs', range: { kind: 'preset', days: 7 }, feature: 'export_csv' },
      { site: 'web', range: { kind: 'custom', from: '2026-01-01', to: '2026-01-31' } },
    ] as const) {
      expect(parseViewState(formatViewState(state))).toEqual(state)
    }
  })

  it('falls back to the last 30 days for anything it does not understand', () => {
    expect(parseViewState('')).toEqual({ range: DEFAULT_RANGE })
    expect(parseViewState('#days=12')).toEqual({ range: DEFAULT_RANGE })
    expect(parseViewState('#from=2026-02-01&to=2026-01-01')).toEqual({ range: DEFAULT_RANGE })
  })

  it('never carries anything but site, range and feature', () => {
    expect(formatViewState({ site: 'web', range: DEFAULT_RANGE })).toBe('#site=web&days=30')
    expect(parseViewState('#key=sk_secret&site=web')).toEqual({ site: 'web', range: DEFAULT_RANGE })
  })
})
