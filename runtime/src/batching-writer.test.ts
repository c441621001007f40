import { describe, expect, it } from 'vitest'
import { BackpressureError, ShuttingDownError } from './errors.js'
import { BatchingWriter } from './batching-writer.js'

function recorder(opts: { failFirst?: boolean; gate?: Promise<void> } = {}) {
  const writes: number[][] = []
  let calls = 0
  const write = async (items: number[]) => {
    calls++
    if (opts.gate) await opts.gate
    if (opts.failFirst && calls === 1) throw new Error('warehouse down')
    writes.push(items)
  }
  return { writes, write }
}

describe('BatchingWriter', () => {
  it('writes concurrent callers together once the linger passes', async () => {
    const r = recorder()
    const w = new BatchingWriter(r.write, { maxItems: 100, lingerMs: 5, maxQueuedItems: 1000 })
    await Promise.all([w.add([1, 2]), w.add([3]), w.add([4, 5])])
    expect(r.writes).toEqual([[1, 2, 3, 4, 5]])
  })

  it('flushes at maxItems without waiting for the linger', async () => {
    const r = recorder()
    const w = new BatchingWriter(r.write, { maxItems: 3, lingerMs: 60_000, maxQueuedItems: 1000 })
    await w.add([1, 2, 3])
    expect(r.writes).toEqual([[1, 2, 3]])
  })

  it('rejects every caller of a failed write, and later writes still go through', async () => {
    const r = recorder({ failFirst: true })
    const w = new BatchingWriter(r.write, { maxItems: 100, lingerMs: 1, maxQueuedItems: 1000 })
    const results = await Promise.allSettled([w.add([1]), w.add([2])])
    expect(results.map((x) => x.status)).toEqual(['rejected', 'rejected'])
    await w.add([3])
    expect(r.writes).toEqual([[3]])
  })

  it('refuses items beyond the queue bound instead of growing memory', async () => {
    let open!: () => void
    const r = recorder({ gate: new Promise((resolve) => (open = resolve)) })
    const w = new BatchingWriter(r.write, { maxItems: 2, lingerMs: 1, maxQueuedItems: 4 })
    const first = w.add([1, 2])
    const second = w.add([3, 4])
    await expect(w.add([5])).rejects.toBeInstanceOf(BackpressureError)
    open()
    await Promise.all([first, second])
    await w.add([5])
    expect(r.writes.flat()).toEqual([1, 2, 3, 4, 5])
  })

  it('gathers what arrives during a write into one next write, not one write per linger', async () => {
    let open!: () => void
    const r = recorder({ gate: new Promise((resolve) => (open = resolve)) })
    const w = new BatchingWriter(r.write, { maxItems: 100, lingerMs: 1, maxQueuedItems: 1000 })
    const first = w.add([1])
    await new Promise((resolve) => setTimeout(resolve, 10))
    // The first write is under way (gated); these arrive over several lingers.
    const later = [w.add([2])]
    await new Promise((resolve) => setTimeout(resolve, 10))
    later.push(w.add([3, 4]))
    await new Promise((resolve) => setTimeout(resolve, 10))
    later.push(w.add([5]))
    open()
    await Promise.all([first, ...later])
    expect(r.writes).toEqual([[1], [2, 3, 4, 5]])
  })

  it('splits what waited into writes of at most maxItems, never splitting one caller', async () => {
    let open!: () => void
    const r = recorder({ gate: new Promise((resolve) => (open = resolve)) })
    const w = new BatchingWriter(r.write, { maxItems: 3, lingerMs: 1, maxQueuedItems: 1000 })
    const all = [w.add([1, 2, 3]), w.add([4, 5]), w.add([6]), w.add([7, 8]), w.add([9, 10, 11, 12])]
    open()
    await Promise.all(all)
    expect(r.writes).toEqual([[1, 2, 3], [4, 5, 6], [7, 8], [9, 10, 11, 12]])
    expect(w.queuedItems).toBe(0)
  })

  it('drain waits for a write under way and for what queued behind it', async () => {
    let open!: () => void
    const r = recorder({ gate: new Promise((resolve) => (open = resolve)) })
    const w = new BatchingWriter(r.write, { maxItems: 1, lingerMs: 60_000, maxQueuedItems: 1000 })
    const pending = [w.add([1]), w.add([2])]
    const drained = w.drain()
    setTimeout(open, 5)
    await drained
    await Promise.all(pending)
    expect(r.writes).toEqual([[1], [2]])
  })

  it('drain writes what was accepted and refuses what comes after', async () => {
    const r = recorder()
    const w = new BatchingWriter(r.write, { maxItems: 100, lingerMs: 60_000, maxQueuedItems: 1000 })
    const pending = w.add([1, 2])
    await w.drain()
    await pending
    expect(r.writes).toEqual([[1, 2]])
    await expect(w.add([3])).rejects.toBeInstanceOf(ShuttingDownError)
  })
})

describe('BatchingWriter fairness', () => {
  it("caps one key's share of the queue while other keys still get in", async () => {
    let open!: () => void
    const r = recorder({ gate: new Promise((resolve) => (open = resolve)) })
    const w = new BatchingWriter(r.write, { maxItems: 1000, lingerMs: 1, maxQueuedItems: 100, maxQueuedPerKey: 10 })
    const noisy = [w.add(Array(6).fill(1), 'noisy'), w.add(Array(4).fill(1), 'noisy')]
    await expect(w.add([1], 'noisy')).rejects.toBeInstanceOf(BackpressureError)
    const quiet = w.add([2, 2, 2], 'quiet')
    open()
    await Promise.all([...noisy, quiet])
    // Written, so the noisy key's share is free again.
    await w.add(Array(10).fill(1), 'noisy')
    expect(w.queuedItems).toBe(0)
  })

  it('lets a batch larger than the share in when its key has nothing queued', async () => {
    const r = recorder()
    const w = new BatchingWriter(r.write, { maxItems: 1000, lingerMs: 1, maxQueuedItems: 100, maxQueuedPerKey: 5 })
    await w.add(Array(8).fill(1), 'big')
    expect(r.writes.flat()).toHaveLength(8)
  })

  it('reports every write to onWrite, failed ones too, and a throwing observer breaks nothing', async () => {
    const seen: { items: number; ok: boolean }[] = []
    const r = recorder({ failFirst: true })
    const w = new BatchingWriter(r.write, {
      maxItems: 100,
      lingerMs: 1,
      maxQueuedItems: 1000,
      onWrite: ({ items, ok }) => {
        seen.push({ items, ok })
        throw new Error('observer bug')
      },
    })
    await expect(w.add([1, 2])).rejects.toThrow('warehouse down')
    await w.add([3])
    expect(seen).toEqual([
      { items: 2, ok: false },
      { items: 1, ok: true },
    ])
  })
})

/** A write per call that ends only when the test says so (or fails). */
function controlled() {
  const calls: { items: number[]; end: () => void }[] = []
  let active = 0
  let maxActive = 0
  const write = (items: number[]) =>
    new Promise<void>((resolve) => {
      active++
      maxActive = Math.max(maxActive, active)
      calls.push({
        items,
        end: () => {
          active--
          resolve()
        },
      })
    })
  return { calls, write, maxActive: () => maxActive }
}

const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until `done` holds: timers on a loaded machine fire late, so no test leans on a fixed sleep alone. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !done(); i++) await tick(5)
  expect(done()).toBe(true)
}

describe('BatchingWriter write order and wait attribution', () => {
  it('keeps one write in flight (Kafka per-key order and the embedded dedup rely on it)', async () => {
    const c = controlled()
    const w = new BatchingWriter(c.write, { maxItems: 1, lingerMs: 1, maxQueuedItems: 100 })
    const all = [w.add([1]), w.add([2]), w.add([3])]
    await until(() => c.calls.length === 1)
    await tick()
    expect(c.calls.map((x) => x.items)).toEqual([[1]])
    c.calls[0]?.end()
    await until(() => c.calls.length === 2)
    c.calls[1]?.end()
    await until(() => c.calls.length === 3)
    c.calls[2]?.end()
    await Promise.all(all)
    expect(c.maxActive()).toBe(1)
  })

  it('acks callers of one write in the order they were added', async () => {
    const c = controlled()
    const w = new BatchingWriter(c.write, { maxItems: 100, lingerMs: 1, maxQueuedItems: 100 })
    const order: number[] = []
    const all = [1, 2, 3].map((n) => w.add([n]).then(() => order.push(n)))
    await until(() => c.calls.length === 1)
    await tick()
    expect(c.calls).toHaveLength(1)
    c.calls[0]?.end()
    await Promise.all(all)
    expect(order).toEqual([1, 2, 3])
  })

  it('splits each caller’s wait into linger and time behind the write under way (onSettle)', async () => {
    const c = controlled()
    const settled: { items: number; linger: number; blocked: number; ok: boolean }[] = []
    const w = new BatchingWriter(c.write, {
      maxItems: 100,
      lingerMs: 20,
      maxQueuedItems: 100,
      onSettle: (s) => settled.push({ items: s.items, linger: s.lingerSeconds, blocked: s.blockedSeconds, ok: s.ok }),
    })
    const first = w.add([1])
    await until(() => c.calls.length === 1)
    // The first write is under way; this one waits behind it.
    const second = w.add([2, 3])
    await tick(30)
    c.calls[0]?.end()
    await first
    await until(() => c.calls.length === 2)
    c.calls[1]?.end()
    await second
    expect(settled).toHaveLength(2)
    expect(settled[0]).toMatchObject({ items: 1, blocked: 0, ok: true })
    expect(settled[0]?.linger).toBeGreaterThanOrEqual(0.015)
    expect(settled[1]?.items).toBe(2)
    expect(settled[1]?.blocked).toBeGreaterThanOrEqual(0.025)
    expect(settled[1]?.linger).toBeLessThan(0.01)
  })
})
