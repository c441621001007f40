import { toWarehouseTime } from '@atspark/schemas'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { correctTimestamp, warehouseTime } from './clock.js'

const RECEIVED = Date.UTC(2026, 10, 28, 12, 0, 0)
const HOUR = 3_600_000

describe('correctTimestamp', () => {
  it('leaves an accurate clock alone', () => {
    expect(correctTimestamp(RECEIVED - 5_000, RECEIVED, RECEIVED)).toBe(RECEIVED - 5_000)
  })

  it('moves a client clock that runs an hour behind forward', () => {
    const sentAt = RECEIVED - HOUR
    expect(correctTimestamp(sentAt - 5_000, sentAt, RECEIVED)).toBe(RECEIVED - 5_000)
  })

  it('moves a client clock that runs a day ahead back', () => {
    const sentAt = RECEIVED + 24 * HOUR
    expect(correctTimestamp(sentAt - 30_000, sentAt, RECEIVED)).toBe(RECEIVED - 30_000)
  })

  it('keeps events that waited in memory at their original distance', () => {
    const sentAt = RECEIVED + 90_000
    expect(correctTimestamp(sentAt - 10 * 60_000, sentAt, RECEIVED)).toBe(RECEIVED - 10 * 60_000)
  })

  it('never lands after receipt, even when the client claims the event happened after sending', () => {
    expect(correctTimestamp(RECEIVED + HOUR, RECEIVED, RECEIVED)).toBe(RECEIVED)
    expect(correctTimestamp(RECEIVED + 60_000, RECEIVED - HOUR, RECEIVED)).toBe(RECEIVED)
  })
})

describe('warehouseTime', () => {
  it('formats exactly as toWarehouseTime, on every edge and on random instants', () => {
    const edges = [0, 1, 999, 1_000, 59_999, 86_399_999, 86_400_000, Date.UTC(2000, 0, 1), Date.UTC(2000, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 1, 29), Date.UTC(2026, 11, 31, 23, 59, 59, 999), Date.UTC(2100, 0, 1), Date.UTC(9999, 11, 31, 23, 59, 59, 999)]
    for (const ms of edges) expect(warehouseTime(ms)).toBe(toWarehouseTime(ms))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(10_000, 0, 1) - 1 }), (ms) => {
        expect(warehouseTime(ms)).toBe(toWarehouseTime(ms))
      }),
      { numRuns: 20_000 },
    )
  })

  it('leaves what its fast path does not cover to toWarehouseTime', () => {
    for (const ms of [-1, -86_400_001, Date.UTC(10_000, 0, 1), 1.5, -0.5, 8.64e15]) expect(warehouseTime(ms)).toBe(toWarehouseTime(ms))
    expect(() => warehouseTime(Number.MAX_SAFE_INTEGER)).toThrow(RangeError)
  })
})
