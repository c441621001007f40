import { describe, expect, it } from 'vitest'
import { grantRate, hideSmallAdoption, hideSmallBuckets, kAnonymousBreakdown, keptValues, suppressColumn } from './kanon.js'

// Every rule at exactly k−1 and exactly k: a `<` turned `<=` (or k turned k−1) must fail here.
const K = 5

describe('hideSmallBuckets at the boundary', () => {
  it('shows a bucket of exactly k visitors and hides one of k−1', () => {
    const [atK, underK] = hideSmallBuckets(
      [
        { t: 'a', visitors: K, pageviews: 1, events: 2, sessions: 3 },
        { t: 'b', visitors: K - 1, pageviews: 1, events: 2, sessions: 3 },
      ],
      K,
    )
    expect(atK).toEqual({ t: 'a', hidden: false, visitors: K, pageviews: 1, events: 2, sessions: 3 })
    expect(underK).toEqual({ t: 'b', hidden: true, visitors: null, pageviews: null, events: null, sessions: null })
  })
})

describe('hideSmallAdoption', () => {
  it('shows a bucket only when both accounts and visitors number at least k', () => {
    const out = hideSmallAdoption(
      [
        { t: 'both-k', accounts: K, visitors: K, events: 9 },
        { t: 'accounts-short', accounts: K - 1, visitors: K + 10, events: 9 },
        { t: 'visitors-short', accounts: K + 10, visitors: K - 1, events: 9 },
      ],
      K,
    )
    expect(out).toEqual([
      { t: 'both-k', hidden: false, accounts: K, visitors: K, events: 9 },
      { t: 'accounts-short', hidden: true, accounts: null, visitors: null, events: null },
      { t: 'visitors-short', hidden: true, accounts: null, visitors: null, events: null },
    ])
  })
})

describe('kAnonymousBreakdown at the boundary', () => {
  it('names a value of exactly k visitors, never one of k−1', () => {
    const top = [
      { value: 'at-k', visitors: K, events: 1 },
      { value: 'under-k', visitors: K - 1, events: 100 },
    ]
    expect(keptValues(top, K, 10)).toEqual(['at-k'])
  })

  it('shows "other" at exactly k visitors and hides it at k−1', () => {
    expect(kAnonymousBreakdown([], { visitors: K, events: 3 }, K, 10).other).toEqual({ visitors: K, events: 3 })
    expect(kAnonymousBreakdown([], { visitors: K - 1, events: 3 }, K, 10).other).toBeNull()
  })

  it('orders ties by events, then by value, and cuts at the limit', () => {
    const top = [
      { value: 'b', visitors: 7, events: 2 },
      { value: 'a', visitors: 7, events: 2 },
      { value: 'c', visitors: 7, events: 9 },
      { value: 'd', visitors: 8, events: 1 },
    ]
    expect(keptValues(top, K, 10)).toEqual(['d', 'c', 'a', 'b'])
    expect(keptValues([...top].reverse(), K, 10)).toEqual(['d', 'c', 'a', 'b'])
    expect(keptValues(top, K, 3)).toEqual(['d', 'c', 'a'])
    // The caller's list is not reordered in place.
    expect(top.map((r) => r.value)).toEqual(['b', 'a', 'c', 'd'])
  })
})

describe('suppressColumn at the boundary', () => {
  it('shows a cell of exactly k and hides one of k−1', () => {
    expect(suppressColumn([K, 20], K)).toEqual({ cells: [K, 20], total: K + 20 })
    expect(suppressColumn([K - 1, 20, 30], K).cells[0]).toBeNull()
  })

  it('stops hiding once the hidden cells sum to exactly k', () => {
    // 1 and 4 are under k and already sum to exactly k, so 30 and 40 stay shown.
    expect(suppressColumn([1, 4, 30, 40], K)).toEqual({ cells: [null, null, 30, 40], total: 75 })
  })

  it('hides the smallest shown cell first, whatever the order of the column', () => {
    expect(suppressColumn([40, 1, 30, 6], K)).toEqual({ cells: [40, null, 30, null], total: 77 })
    expect(suppressColumn([6, 40, 1, 30], K)).toEqual({ cells: [null, 40, null, 30], total: 77 })
  })

  it('hides nothing further when no cell is under k', () => {
    expect(suppressColumn([6, 7, 8], K)).toEqual({ cells: [6, 7, 8], total: 21 })
  })

  it('never hides a zero, even to pad the hidden sum', () => {
    expect(suppressColumn([0, 2, 0, 30], K)).toEqual({ cells: [0, null, 0, null], total: 32 })
  })

  it('shows a total of exactly k, hides one of k−1, and shows a total of 0', () => {
    expect(suppressColumn([2, 3], K).total).toBe(K)
    expect(suppressColumn([2, 2], K).total).toBeNull()
    expect(suppressColumn([0, 0], K)).toEqual({ cells: [0, 0], total: 0 })
  })

  it('under a total below k hides the small cells but does not pad them', () => {
    expect(suppressColumn([1, 0, 2], K)).toEqual({ cells: [null, 0, null], total: null })
  })
})

describe('grantRate', () => {
  it('is null when either total is hidden and a fraction otherwise', () => {
    expect(grantRate(10, null)).toBeNull()
    expect(grantRate(null, null)).toBeNull()
    expect(grantRate(0, 4)).toBe(0)
    expect(grantRate(4, 0)).toBe(1)
    expect(grantRate(1, 3)).toBe(0.25)
    expect(grantRate(3, 3)).toBe(0.5)
  })
})
