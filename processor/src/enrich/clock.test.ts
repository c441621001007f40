import { describe, expect, it } from 'vitest'
import { correctTimestamp } from './clock.js'

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
