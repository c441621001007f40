import { describe, expect, it } from 'vitest'
import { resolveRange, StatsRequestError } from './queries.js'
import { assertRawCovers, horizonBucket, rawHorizon, wallTimeToUtc } from './raw-retention.js'

describe('rawHorizon', () => {
  it('is now minus the retention in calendar months, the day clamped like ClickHouse', () => {
    expect(new Date(rawHorizon(Date.parse('2026-11-28T12:00:00Z'))).toISOString()).toBe('2025-10-28T12:00:00.000Z')
    expect(new Date(rawHorizon(Date.parse('2026-03-31T00:00:00Z'), 1)).toISOString()).toBe('2026-02-28T00:00:00.000Z')
    expect(new Date(rawHorizon(Date.parse('2027-03-31T05:00:00Z'), 13)).toISOString()).toBe('2026-02-28T05:00:00.000Z')
    expect(new Date(rawHorizon(Date.parse('2026-01-15T00:00:00Z'), 3)).toISOString()).toBe('2025-10-15T00:00:00.000Z')
  })
})

describe('wallTimeToUtc', () => {
  it('reads a wall time in the zone, DST and half-hour offsets included', () => {
    expect(new Date(wallTimeToUtc('2026-11-01', 'UTC')).toISOString()).toBe('2026-11-01T00:00:00.000Z')
    expect(new Date(wallTimeToUtc('2026-11-01T09:00', 'Asia/Tokyo')).toISOString()).toBe('2026-11-01T00:00:00.000Z')
    expect(new Date(wallTimeToUtc('2026-11-01', 'Asia/Kolkata')).toISOString()).toBe('2026-10-31T18:30:00.000Z')
    expect(new Date(wallTimeToUtc('2026-07-01', 'Europe/Berlin')).toISOString()).toBe('2026-06-30T22:00:00.000Z')
    expect(new Date(wallTimeToUtc('2026-12-01', 'America/New_York')).toISOString()).toBe('2026-12-01T05:00:00.000Z')
  })
})

describe('assertRawCovers', () => {
  const NOW = Date.parse('2026-11-28T12:00:00Z')
  const horizon = rawHorizon(NOW)
  it('accepts ranges starting at or after the horizon and names the first day otherwise', () => {
    expect(() => assertRawCovers(resolveRange({ from: '2025-10-29', to: '2025-11-01' }, 'UTC', NOW), horizon, 'x')).not.toThrow()
    expect(() => assertRawCovers(resolveRange({ from: '2025-10-28', to: '2025-11-01' }, 'UTC', NOW), horizon, 'x')).toThrow(StatsRequestError)
    expect(() => assertRawCovers(resolveRange({ from: '2025-10-28T13:00', to: '2025-11-01' }, 'UTC', NOW), horizon, 'x')).not.toThrow()
    // 13:00 in Berlin (UTC+1 in October's end) is 12:00 UTC: exactly the horizon.
    expect(() => assertRawCovers(resolveRange({ from: '2025-10-28T13:00', to: '2025-11-01' }, 'Europe/Berlin', NOW), horizon, 'x')).not.toThrow()
    expect(() => assertRawCovers(resolveRange({ from: '2025-10-28T12:00', to: '2025-11-01' }, 'Europe/Berlin', NOW), horizon, 'a funnel')).toThrow(
      'a funnel reads raw events, kept for the site\'s retention only: from must be 2025-10-29 or later',
    )
  })
})

describe('horizonBucket', () => {
  const horizon = Date.parse('2025-10-29T10:15:00Z')
  it('labels the bucket holding the horizon like the SQL: UTC hour first, then wall time in tz', () => {
    expect(horizonBucket(horizon, 'hour', 'UTC')).toBe('2025-10-29T10:00:00')
    expect(horizonBucket(horizon, 'day', 'UTC')).toBe('2025-10-29')
    expect(horizonBucket(horizon, 'week', 'UTC')).toBe('2025-10-27')
    expect(horizonBucket(horizon, 'month', 'UTC')).toBe('2025-10-01')
    expect(horizonBucket(horizon, 'day', 'Asia/Tokyo')).toBe('2025-10-29')
    expect(horizonBucket(Date.parse('2025-10-31T20:00:00Z'), 'month', 'Asia/Tokyo')).toBe('2025-11-01')
    expect(horizonBucket(Date.parse('2025-10-29T10:45:00Z'), 'hour', 'Asia/Kolkata')).toBe('2025-10-29T15:00:00')
  })
})
