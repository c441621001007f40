/** Base of every processor error: a stable code, the cause, and whether retrying can help. */
export class ProcessorError extends Error {
  readonly code: string
  readonly retriable: boolean

  constructor(code: string, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options?.retriable ?? false
  }
}

/** A poison message: it can never be processed, so it goes to the DLQ and the partition moves on. */
export class PoisonMessageError extends ProcessorError {
  constructor(reason: string, cause?: unknown) {
    super('poison_message', reason, { cause, retriable: false })
  }
}

/** A warehouse write failed; the batch is retried with backoff and its offsets are not committed. */
export class WarehouseWriteError extends ProcessorError {
  constructor(cause: unknown) {
    super('warehouse_write_failed', 'warehouse write failed', { cause, retriable: true })
  }
}
