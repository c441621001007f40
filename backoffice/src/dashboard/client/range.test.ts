import { describe, expect, it } from 'vitest'
import { bucketMs, bucketStarts, customRangeProblem, describeRange, intervalFor, resolveRange } from './range.js'

const NOW = Date.UTC(2026, 10, 28, 15, 30)

describe('resolveRange', () => {
  it('a preset ends today and sends tomorrow as the exclusive end', () => {
    expect(resolveRange({ kind: 'preset', days: 7 }, NOW)).toEqual({ from: '2026-11-22', to: '2026-11-29', last: '2026-11-28', days: 7, interval: 'day' })
    expect(resolveRange({ kind: 'preset', days: 30 }, NOW)).toMatchObject({ from: '2026-10-30', to: '2026-11-29', days: 30 })
    expect(resolveRange({ kind: 'preset', days: 90 }, NOW)).toMatchObject({ from: '2026-08-31', days: 90, interval: 'day' })
  })

  it('a custom range includes its last day', () => {
    expect(resolveRange({ kind: 'custom', from: '2026-01-01', to: '2026-01-01' }, NOW)).toEqual({
      from: '2026-01-01',
      to: '2026-01-02',
      last: '2026-01-01',
      days: 1,
      interval: 'hour',
    })
    expect(resolveRange({ kind: 'custom', from: '2025-01-01', to: '2025-12-31' }, NOW)).toMatchObject({ days: 365, interval: 'week' })
  })
})

describe('custom ranges', () => {
  it('names what is wrong', () => {
    expect(customRangeProblem('2026-11-01', '2026-11-10')).toBeUndefined()
    expect(customRangeProblem('', '2026-11-10')).toBe('Choose both days.')
    expect(customRangeProblem('2026-02-30', '2026-03-10')).toBe('Choose both days.')
    expect(customRangeProblem('2026-11-10', '2026-11-01')).toBe('The first day must not be after the last.')
    expect(customRangeProblem('2020-01-01', '2026-11-01')).toBe('Choose at most 800 days.')
  })

  it('picks hours, days or weeks by length', () => {
    expect([1, 2, 3, 120, 121].map(intervalFor)).toEqual(['hour', 'hour', 'day', 'day', 'week'])
  })
})

describe('buckets', () => {
  it('parses the API bucket starts as UTC', () => {
    expect(bucketMs('2026-11-25')).toBe(Date.UTC(2026, 10, 25))
    expect(bucketMs('2026-11-25T13:00:00')).toBe(Date.UTC(2026, 10, 25, 13))
  })

  it('lists every hour, day or Monday-started week of a range', () => {
    const hours = bucketStarts(resolveRange({ kind: 'custom', from: '2026-11-25', to: '2026-11-25' }, NOW))
    expect(hours).toHaveLength(24)
    expect(bucketStarts(resolveRange({ kind: 'preset', days: 7 }, NOW))).toEqual(Array.from({ length: 7 }, (_, i) => Date.UTC(2026, 10, 22 + i)))
    const weeks = bucketStarts(resolveRange({ kind: 'custom', from: '2026-01-01', to: '2026-06-30' }, NOW))
    // 1 Jan 2026 is a Thursday: the first week starts on Monday 29 Dec 2025.
    expect(weeks[0]).toBe(Date.UTC(2025, 11, 29))
    expect(weeks.every((t) => new Date(t).getUTCDay() === 1)).toBe(true)
    expect(weeks.at(-1)).toBe(Date.UTC(2026, 5, 29))
  })

  it('describes a range for people', () => {
    expect(describeRange(resolveRange({ kind: 'preset', days: 7 }, NOW))).toBe('22 Nov – 28 Nov 2026 (UTC)')
    expect(describeRange(resolveRange({ kind: 'custom', from: '2025-12-20', to: '2026-01-05' }, NOW))).toBe('20 Dec 2025 – 5 Jan 2026 (UTC)')
  })
})

describe('buckets that have not begun', () => {
  it('are left out: today by the hour stops at the current hour, the last 7 days at today', () => {
    const hours = bucketStarts(resolveRange({ kind: 'custom', from: '2026-11-28', to: '2026-11-28' }, NOW), NOW)
    expect(hours.at(-1)).toBe(Date.UTC(2026, 10, 28, 15))
    expect(hours).toHaveLength(16)
    expect(bucketStarts(resolveRange({ kind: 'preset', days: 7 }, NOW), NOW)).toHaveLength(7)
    expect(bucketStarts(resolveRange({ kind: 'custom', from: '2026-11-20', to: '2026-12-05' }, NOW), NOW).at(-1)).toBe(Date.UTC(2026, 10, 28))
  })
})
