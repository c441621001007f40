import { LIMITS } from '@atspark/schemas'
import { beforeEach, describe, expect, test, vi } from 'vitest'
import { createQueue, QUEUE } from './queue.js'
import './test-support.js'

function setup(ready = () => true) {
  const send = vi.fn(async (_items: number[], _beacon?: boolean) => {})
  return { send, queue: createQueue<number>(ready, send) }
}

beforeEach(() => void vi.useFakeTimers())

describe('queue', () => {
  test('the policy: 20 events or 5 s, at most one batch of LIMITS.eventsPerBatch', () => {
    expect(QUEUE).toEqual({ size: 20, wait: 5000, cap: LIMITS.eventsPerBatch })
  })

  test('flushes as soon as 20 events are queued', () => {
    const { send, queue } = setup()
    for (let i = 0; i < 19; i++) queue.push(i)
    expect(send).not.toHaveBeenCalled()
    queue.push(19)
    expect(send).toHaveBeenCalledOnce()
    expect(send.mock.calls[0]![0]).toEqual(Array.from({ length: 20 }, (_, i) => i))
  })

  test('flushes 5 s after the first queued event', () => {
    const { send, queue } = setup()
    queue.push(1)
    vi.advanceTimersByTime(4000)
    queue.push(2)
    vi.advanceTimersByTime(999)
    expect(send).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(send).toHaveBeenCalledWith([1, 2], undefined)
  })

  test('holds events while not ready, bounded to 100, and sends them once ready', async () => {
    let ready = false
    const { send, queue } = setup(() => ready)
    for (let i = 0; i < 150; i++) queue.push(i)
    vi.advanceTimersByTime(60_000)
    expect(send).not.toHaveBeenCalled()
    ready = true
    await queue.flush()
    expect(send).toHaveBeenCalledOnce()
    expect(send.mock.calls[0]![0]).toHaveLength(LIMITS.eventsPerBatch)
    expect(send.mock.calls[0]![0][0]).toBe(0)
  })

  test('flush(true) passes the beacon flag; an empty queue sends nothing', async () => {
    const { send, queue } = setup()
    await queue.flush(true)
    expect(send).not.toHaveBeenCalled()
    queue.push(1)
    await queue.flush(true)
    expect(send).toHaveBeenCalledWith([1], true)
  })

  test('clear drops everything and the timer', () => {
    const { send, queue } = setup()
    queue.push(1)
    queue.clear()
    vi.advanceTimersByTime(10_000)
    expect(send).not.toHaveBeenCalled()
  })
})
