import { describe, expect, it } from 'vitest'
import { backoffDelay, RetryAbandonedError, retry } from './retry.js'

const noSleep = async () => {}

describe('retry', () => {
  it('retries until the work succeeds', async () => {
    let calls = 0
    const result = await retry(
      async () => {
        if (++calls < 4) throw new Error('warehouse down')
        return 'written'
      },
      { initialMs: 10, maxMs: 100, keepGoing: () => true, sleep: noSleep },
    )
    expect(result).toBe('written')
    expect(calls).toBe(4)
  })

  it('never retries a programming error', async () => {
    let calls = 0
    await expect(
      retry(
        async () => {
          calls++
          throw new TypeError('x is undefined')
        },
        { initialMs: 10, maxMs: 100, keepGoing: () => true, sleep: noSleep },
      ),
    ).rejects.toBeInstanceOf(TypeError)
    expect(calls).toBe(1)
  })

  it('gives up when the work is taken away', async () => {
    await expect(
      retry(
        async () => {
          throw new Error('down')
        },
        { initialMs: 10, maxMs: 100, keepGoing: () => false, sleep: noSleep },
      ),
    ).rejects.toBeInstanceOf(RetryAbandonedError)
  })

  it('backs off exponentially up to the cap, with full jitter', () => {
    const opts = { initialMs: 100, maxMs: 1000 }
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, { ...opts, random: () => 1 }))).toEqual([100, 200, 400, 800, 1000, 1000])
    expect(backoffDelay(3, { ...opts, random: () => 0 })).toBe(0)
  })
})
