import { BackpressureError, ShuttingDownError } from './errors.js'

export interface BatchingOptions {
  /** Flush as soon as this many items wait. */
  maxItems: number
  /** Flush at most this long after the first item of a batch arrived (while a write slot is free). */
  lingerMs: number
  /** Refuse new items beyond this many waiting or being written, so memory stays bounded. */
  maxQueuedItems: number
  /** Fairness: one key (a site) may hold at most this many of the queued items, so a noisy site cannot fill the queue for all. */
  maxQueuedPerKey?: number
  /**
   * Writes in flight at once (default 1). One keeps today's order: each write starts after the last one ended, which
   * Kafka's per-key order needs. More lets a batch start while another is being written, so no caller waits for a
   * whole earlier write; each caller still settles with the write that carried its items.
   */
  maxConcurrentWrites?: number
  /** Told of every write: its size, how long it took, and whether it failed (metrics). */
  onWrite?: (info: WriteInfo) => void
  /** Told of every caller's items once their write ended: where their wait went (latency attribution). */
  onSettle?: (info: SettleInfo) => void
}

export interface WriteInfo {
  items: number
  seconds: number
  ok: boolean
}

export interface SettleInfo {
  items: number
  /** Waiting for the batch to fill or its linger to pass while a write slot was free. */
  lingerSeconds: number
  /** Waiting while every write slot was busy (behind writes in flight). */
  blockedSeconds: number
  /** The write that carried the items. */
  writeSeconds: number
  ok: boolean
}

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
  key: string | undefined
  count: number
  /** performance.now() when added, and the blocked clock then: the split of its wait into linger and blocked. */
  addedAt: number
  blockedAtAdd: number
}

/** One caller's items and its promise: a group is never split across writes. */
interface Group<T> {
  items: readonly T[]
  waiter: Waiter
}

/**
 * Group commit: concurrent callers' items are written together, at most `maxConcurrentWrites` writes at a time, and
 * each caller's promise settles with the write that carried its items. Items arriving while every slot is busy wait
 * for a slot and then go out together as the next write (up to `maxItems`), so writes grow with load instead of
 * queueing one small write per linger.
 */
export class BatchingWriter<T> {
  private pending: Group<T>[] = []
  private pendingItems = 0
  private timer: NodeJS.Timeout | undefined
  private inFlight = 0
  private readonly slots: boolean[]
  private idle: Promise<void> = Promise.resolve()
  private settleIdle: (() => void) | undefined
  private queued = 0
  private readonly queuedByKey = new Map<string, number>()
  private closed = false
  /** Total time every slot was busy, up to `blockedSince` (set while they are): waits are split by it. */
  private blockedMs = 0
  private blockedSince: number | undefined

  constructor(
    /** `slot` (0 … maxConcurrentWrites − 1) is free for this write alone: a caller can keep one connection per slot. */
    private readonly write: (items: T[], slot: number) => Promise<void>,
    private readonly options: BatchingOptions,
  ) {
    const max = options.maxConcurrentWrites ?? 1
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxConcurrentWrites must be an integer ≥ 1, got ${max}`)
    this.slots = Array.from({ length: max }, () => false)
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Items accepted and not yet written (waiting or in a write under way). */
  get queuedItems(): number {
    return this.queued
  }

  /** Writes under way right now. */
  get writesInFlight(): number {
    return this.inFlight
  }

  /**
   * Resolves when `items` are written; rejects with the write's error, or at once when over the
   * bound (the whole queue's, or `key`'s share of it).
   */
  add(items: readonly T[], key?: string): Promise<void> {
    if (this.closed) return Promise.reject(new ShuttingDownError())
    if (items.length === 0) return Promise.resolve()
    if (this.queued + items.length > this.options.maxQueuedItems) {
      return Promise.reject(new BackpressureError(this.queued, this.options.maxQueuedItems))
    }
    const perKey = this.options.maxQueuedPerKey
    const keyQueued = key === undefined ? 0 : (this.queuedByKey.get(key) ?? 0)
    // A batch larger than the share is still let in when the key has nothing queued, or it could never be written.
    if (perKey !== undefined && key !== undefined && keyQueued > 0 && keyQueued + items.length > perKey) {
      return Promise.reject(new BackpressureError(keyQueued, perKey))
    }
    this.queued += items.length
    if (key !== undefined) this.queuedByKey.set(key, keyQueued + items.length)
    const now = performance.now()
    const blockedAtAdd = this.blockedClock(now)
    const done = new Promise<void>((resolve, reject) => {
      this.pending.push({ items, waiter: { resolve, reject, key, count: items.length, addedAt: now, blockedAtAdd } })
    })
    this.pendingItems += items.length
    this.markBusy()
    // With every slot busy nothing is scheduled: the next write to end starts one with everything that arrived meanwhile.
    if (this.inFlight >= this.slots.length) return done
    if (this.pendingItems >= this.options.maxItems) this.startWrites()
    else this.timer ??= setTimeout(() => this.startWrites(), this.options.lingerMs)
    return done
  }

  /** Stops accepting items and resolves when everything accepted has been written (or failed). */
  async drain(): Promise<void> {
    this.closed = true
    this.startWrites()
    await this.idle
  }

  private markBusy(): void {
    if (this.settleIdle) return
    this.idle = new Promise<void>((resolve) => (this.settleIdle = resolve))
  }

  private blockedClock(now: number): number {
    return this.blockedMs + (this.blockedSince === undefined ? 0 : now - this.blockedSince)
  }

  /** Starts writes of whole groups (up to maxItems each, at least one group however large) while slots are free. */
  private startWrites(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    while (this.pending.length > 0 && this.inFlight < this.slots.length) this.startWrite()
    if (this.pending.length === 0 && this.inFlight === 0) {
      this.settleIdle?.()
      this.settleIdle = undefined
    }
  }

  private startWrite(): void {
    let take = 0
    let count = 0
    while (take < this.pending.length) {
      const n = this.pending[take]?.items.length ?? 0
      if (take > 0 && count + n > this.options.maxItems) break
      count += n
      take++
    }
    const groups = this.pending.splice(0, take)
    this.pendingItems -= count
    const items: T[] = []
    for (const g of groups) for (const item of g.items) items.push(item)
    const slot = this.slots.indexOf(false)
    this.slots[slot] = true
    this.inFlight++
    const now = performance.now()
    const blockedNow = this.blockedClock(now)
    if (this.inFlight === this.slots.length) this.blockedSince = now
    void this.run(items, groups.map((g) => g.waiter), slot, now, blockedNow)
  }

  private async run(items: T[], waiters: Waiter[], slot: number, started: number, blockedAtStart: number): Promise<void> {
    let ok = false
    let error: unknown
    try {
      await this.write(items, slot)
      ok = true
    } catch (err) {
      error = err
    }
    const ended = performance.now()
    const seconds = (ended - started) / 1000
    this.queued -= items.length
    for (const w of waiters) this.release(w)
    if (this.blockedSince !== undefined) {
      this.blockedMs += ended - this.blockedSince
      this.blockedSince = undefined
    }
    this.slots[slot] = false
    this.inFlight--
    this.report(() => this.options.onWrite?.({ items: items.length, seconds, ok }))
    // Callers settle in the order they were added, within their write; writes in flight together may end in any order.
    for (const w of waiters) {
      if (ok) w.resolve()
      else w.reject(error)
      const waited = started - w.addedAt
      const blocked = Math.min(waited, Math.max(0, blockedAtStart - w.blockedAtAdd))
      this.report(() => this.options.onSettle?.({ items: w.count, lingerSeconds: (waited - blocked) / 1000, blockedSeconds: blocked / 1000, writeSeconds: seconds, ok }))
    }
    // What waited for this slot has waited at least as long as a write: no further linger.
    this.startWrites()
  }

  /** A throwing observer must not break the write chain, which every later write hangs off. */
  private report(notify: () => void): void {
    try {
      notify()
    } catch {
      // metrics only
    }
  }

  private release(w: Waiter): void {
    if (w.key === undefined) return
    const left = (this.queuedByKey.get(w.key) ?? 0) - w.count
    if (left > 0) this.queuedByKey.set(w.key, left)
    else this.queuedByKey.delete(w.key)
  }
}
