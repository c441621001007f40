import { BackpressureError, ShuttingDownError } from './errors.js'

export interface BatchingOptions {
  /** Flush as soon as this many items wait. */
  maxItems: number
  /** Flush at most this long after the first item of a batch arrived (while no write is under way). */
  lingerMs: number
  /** Refuse new items beyond this many waiting or being written, so memory stays bounded. */
  maxQueuedItems: number
  /** Fairness: one key (a site) may hold at most this many of the queued items, so a noisy site cannot fill the queue for all. */
  maxQueuedPerKey?: number
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
  /** Waiting for the batch to fill or its linger to pass while no write was under way. */
  lingerSeconds: number
  /** Waiting behind the write under way. */
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
 * Group commit: concurrent callers' items are written together, one write at a time (Kafka's per-key order and the
 * embedded dedup of retried event ids both need it; a second write in flight was measured and did not pay), and each
 * caller's promise settles with the write that carried its items. Items arriving during a write wait for it to finish
 * and then go out together as the next write (up to `maxItems`), so writes grow with load instead of queueing one
 * small write per linger.
 */
export class BatchingWriter<T> {
  private pending: Group<T>[] = []
  private pendingItems = 0
  private timer: NodeJS.Timeout | undefined
  private inFlight = false
  private idle: Promise<void> = Promise.resolve()
  private settleIdle: (() => void) | undefined
  private queued = 0
  private readonly queuedByKey = new Map<string, number>()
  private closed = false
  /** Total time a write was under way, up to `blockedSince` (set while one is): waits are split by it. */
  private blockedMs = 0
  private blockedSince: number | undefined

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly options: BatchingOptions,
  ) {}

  get isClosed(): boolean {
    return this.closed
  }

  /** Items accepted and not yet written (waiting or in the write under way). */
  get queuedItems(): number {
    return this.queued
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
    // During a write nothing is scheduled: its end starts the next write with everything that arrived meanwhile.
    if (this.inFlight) return done
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

  /** Takes whole groups up to maxItems (at least one, however large) and writes them, unless a write is under way. */
  private startWrites(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.inFlight) return
    if (this.pending.length === 0) {
      this.settleIdle?.()
      this.settleIdle = undefined
      return
    }
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
    this.inFlight = true
    const now = performance.now()
    const blockedNow = this.blockedClock(now)
    this.blockedSince = now
    void this.run(items, groups.map((g) => g.waiter), now, blockedNow)
  }

  private async run(items: T[], waiters: Waiter[], started: number, blockedAtStart: number): Promise<void> {
    let ok = false
    let error: unknown
    try {
      await this.write(items)
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
    this.inFlight = false
    this.report(() => this.options.onWrite?.({ items: items.length, seconds, ok }))
    // Callers settle in the order they were added.
    for (const w of waiters) {
      if (ok) w.resolve()
      else w.reject(error)
      const waited = started - w.addedAt
      const blocked = Math.min(waited, Math.max(0, blockedAtStart - w.blockedAtAdd))
      this.report(() => this.options.onSettle?.({ items: w.count, lingerSeconds: (waited - blocked) / 1000, blockedSeconds: blocked / 1000, writeSeconds: seconds, ok }))
    }
    // What arrived during this write has waited at least as long as the write took: no further linger.
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
