export interface RetryOptions {
  initialMs: number
  maxMs: number
  /** Checked before every attempt; false stops retrying (rebalance, shutdown). */
  keepGoing: () => boolean
  /** Called while waiting, e.g. to heartbeat the consumer group. */
  onWait?: (attempt: number, err: unknown) => Promise<void> | void
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export class RetryAbandonedError extends Error {
  readonly code = 'retry_abandoned'
  readonly retriable = false

  constructor(cause: unknown) {
    super('stopped retrying: the work was taken away', { cause })
    this.name = new.target.name
  }
}

/** Programming errors never heal by waiting, so they are thrown at once. */
function isProgrammingError(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError
}

/** Exponential backoff with full jitter: delay = random(0, min(max, initial · 2^attempt)). */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'initialMs' | 'maxMs' | 'random'>): number {
  const cap = Math.min(options.maxMs, options.initialMs * 2 ** attempt)
  return Math.round((options.random ?? Math.random)() * cap)
}

/** Runs `fn` until it succeeds, backing off with jitter between failures; never retries programming errors. */
export async function retry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (isProgrammingError(err)) throw err
      await options.onWait?.(attempt, err)
      await sleep(backoffDelay(attempt, options))
      if (!options.keepGoing()) throw new RetryAbandonedError(err)
    }
  }
}
