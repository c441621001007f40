// Bounded batching: flush at `size` events or after `wait` ms, whichever comes first.

/** `cap` equals LIMITS.eventsPerBatch, so one request always carries the whole queue. */
export const QUEUE = { size: 20, wait: 5000, cap: 100 } as const

export type Queue<T> = {
  push(item: T): void
  /** Hands everything queued to `send` if `ready()`; otherwise keeps it. */
  flush(beacon?: boolean): Promise<void>
  clear(): void
}

export function createQueue<T>(ready: () => boolean, send: (items: T[], beacon?: boolean) => Promise<void>): Queue<T> {
  let items: T[] = []
  let timer: ReturnType<typeof setTimeout> | undefined
  const queue: Queue<T> = {
    push(item) {
      // Memory stays bounded while events wait (consent pending, or the network is down): newest are dropped.
      if (items.length < QUEUE.cap) items.push(item)
      if (items.length >= QUEUE.size) queue.flush()
      else timer ||= setTimeout(queue.flush, QUEUE.wait)
    },
    async flush(beacon) {
      clearTimeout(timer)
      timer = undefined
      if (!items.length || !ready()) return
      const batch = items
      items = []
      return send(batch, beacon)
    },
    clear() {
      clearTimeout(timer)
      timer = undefined
      items = []
    },
  }
  return queue
}
