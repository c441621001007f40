import { describe, expect, it } from 'vitest'
import { grantRate, hideSmallBuckets, kAnonymousBreakdown, keptValues, suppressColumn } from './kanon.js'

describe('hideSmallBuckets', () => {
  it('hides every count of a bucket with fewer than k visitors and keeps the others whole', () => {
    const out = hideSmallBuckets(
      [
        { t: '2026-11-01', visitors: 4, pageviews: 9, events: 12, sessions: 4 },
        { t: '2026-11-02', visitors: 5, pageviews: 7, events: 8, sessions: 6 },
      ],
      5,
    )
    expect(out).toEqual([
      { t: '2026-11-01', hidden: true, visitors: null, pageviews: null, events: null, sessions: null },
      { t: '2026-11-02', hidden: false, visitors: 5, pageviews: 7, events: 8, sessions: 6 },
    ])
  })
})

describe('kAnonymousBreakdown', () => {
  const top = [
    { value: '/a', visitors: 10, events: 30 },
    { value: '/secret', visitors: 1, events: 3 },
    { value: '/b', visitors: 10, events: 40 },
    { value: '/c', visitors: 6, events: 6 },
  ]

  it('names only values with at least k visitors, top-N by visitors then events', () => {
    expect(keptValues(top, 5, 2)).toEqual(['/b', '/a'])
    expect(keptValues(top, 5, 10)).toEqual(['/b', '/a', '/c'])
    expect(keptValues(top, 11, 10)).toEqual([])
  })

  it('shows "other" only when it holds at least k visitors', () => {
    expect(kAnonymousBreakdown(top, { visitors: 7, events: 9 }, 5, 3)).toEqual({
      rows: [
        { value: '/b', visitors: 10, events: 40 },
        { value: '/a', visitors: 10, events: 30 },
        { value: '/c', visitors: 6, events: 6 },
      ],
      other: { visitors: 7, events: 9 },
    })
    expect(kAnonymousBreakdown(top, { visitors: 4, events: 100 }, 5, 3).other).toBeNull()
  })

  it('never lets a value under k through, whatever the caller passed', () => {
    const out = kAnonymousBreakdown(top, { visitors: 0, events: 0 }, 5, 100)
    expect(out.rows.map((r) => r.value)).not.toContain('/secret')
    expect(out.other).toBeNull()
  })
})

describe('suppressColumn', () => {
  it('hides cells under k and shows zeros', () => {
    expect(suppressColumn([0, 20, 30], 5)).toEqual({ cells: [0, 20, 30], total: 50 })
    expect(suppressColumn([2, 20, 30], 5).cells[0]).toBeNull()
  })

  it('hides the next smallest cell so a hidden one cannot be derived from the total', () => {
    expect(suppressColumn([2, 20, 30], 5)).toEqual({ cells: [null, null, 30], total: 52 })
    // Two small cells already sum to k: nothing more needs hiding.
    expect(suppressColumn([3, 3, 30], 5)).toEqual({ cells: [null, null, 30], total: 36 })
  })

  it('hides the total when it is under k', () => {
    expect(suppressColumn([1, 2], 5)).toEqual({ cells: [null, null], total: null })
    expect(suppressColumn([], 5)).toEqual({ cells: [], total: 0 })
  })

  it('gives a grant rate only when both totals are shown', () => {
    expect(grantRate(30, 10)).toBe(0.75)
    expect(grantRate(null, 10)).toBeNull()
    expect(grantRate(0, 0)).toBeNull()
  })
})
