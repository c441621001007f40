import { BackpressureError, ShuttingDownError } from './errors.js'

export interface BatchingOptions {
  /** Flush as soon as this many items wait. */
  maxItems: number
  /** Flush at most this long after the first item of a batch arrived. */
  lingerMs: number
  /** Refuse new items beyond this many waiting or being written, so memory stays bounded. */
  maxQueuedItems: number
}

interface Waiter {
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * Group commit: concurrent callers' items are written together, one write at a time, and each
 * caller's promise settles with the write that carried its items. Items arriving during a write
 * form the next, larger batch, so throughput rises with load instead of queueing small inserts.
 */
export class BatchingWriter<T> {
  private items: T[] = []
  private waiters: Waiter[] = []
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private queued = 0
  private closed = false

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly options: BatchingOptions,
  ) {}

  get isClosed(): boolean {
    return this.closed
  }

  /** Resolves when `items` are written; rejects with the write's error, or at once when over the bound. */
  add(items: readonly T[]): Promise<void> {
    if (this.closed) return Promise.reject(new ShuttingDownError())
    if (items.length === 0) return Promise.resolve()
    if (this.queued + items.length > this.options.maxQueuedItems) {
      return Promise.reject(new BackpressureError(this.queued, this.options.maxQueuedItems))
    }
    this.queued += items.length
    for (const item of items) this.items.push(item)
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }))
    if (this.items.length >= this.options.maxItems) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), this.options.lingerMs)
    return done
  }

  /** Stops accepting items and resolves when everything accepted has been written (or failed). */
  async drain(): Promise<void> {
    this.closed = true
    this.flush()
    await this.writing
  }

  private flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.items.length === 0) return
    const items = this.items
    const waiters = this.waiters
    this.items = []
    this.waiters = []
    this.writing = this.writing.then(async () => {
      try {
        await this.write(items)
        for (const w of waiters) w.resolve()
      } catch (err) {
        for (const w of waiters) w.reject(err)
      } finally {
        this.queued -= items.length
      }
    })
  }
}
