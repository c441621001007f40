/** The offset metadata recorded before an insert: `end=<offset>`, the exclusive end of the batch. */
export function encodeBatchEnd(end: bigint): string {
  return `end=${end}`
}

export function decodeBatchEnd(metadata: string | null | undefined): bigint | undefined {
  const match = /^end=(\d+)$/.exec(metadata ?? '')
  return match ? BigInt(match[1]!) : undefined
}

/** Insert dedup token: a re-formed batch after a crash gets the same one, so ClickHouse drops the repeat. */
export function dedupToken(topic: string, partition: number, start: bigint, end: bigint): string {
  return `${topic}:${partition}:${start}-${end}`
}

export interface Offsetted {
  offset: string
}

export interface SealedBatch<M extends Offsetted> {
  messages: M[]
  start: bigint
  end: bigint
}

/**
 * Per partition: messages accumulate from `start`; a batch is sealed as everything received, or,
 * when a previous run recorded an end it may not have finished, exactly `[start, recordedEnd)` once
 * those offsets have all arrived — the same range, so the same dedup token.
 */
export class PartitionBatcher<M extends Offsetted> {
  private pending: M[] = []

  constructor(
    private start: bigint,
    private recordedEnd: bigint | undefined,
  ) {}

  /** True while the first batch must re-form a range a previous run recorded. */
  get recovering(): boolean {
    return this.recordedEnd !== undefined
  }

  get nextStart(): bigint {
    return this.start
  }

  add(messages: readonly M[]): void {
    for (const m of messages) if (BigInt(m.offset) >= this.start) this.pending.push(m)
  }

  /** The next batch ready to write, or undefined while a recorded range is still incomplete. */
  seal(): SealedBatch<M> | undefined {
    const last = this.pending.at(-1)
    if (!last) return undefined
    const lastOffset = BigInt(last.offset)
    let end: bigint
    if (this.recordedEnd !== undefined) {
      if (lastOffset + 1n < this.recordedEnd) return undefined
      end = this.recordedEnd
    } else {
      end = lastOffset + 1n
    }
    const messages = this.pending.filter((m) => BigInt(m.offset) < end)
    return { messages, start: this.start, end }
  }

  /** The sealed batch is committed: move past it. */
  advance(end: bigint): void {
    this.pending = this.pending.filter((m) => BigInt(m.offset) >= end)
    this.start = end
    this.recordedEnd = undefined
  }
}
