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

/** More rows are waiting than the bound allows; the caller should shed load, not queue. */
export class BackpressureError extends ProcessorError {
  constructor(queued: number, limit: number) {
    super('backpressure', `${queued} rows already waiting for the warehouse (limit ${limit})`, { retriable: true })
  }
}

export class ShuttingDownError extends ProcessorError {
  constructor() {
    super('shutting_down', 'the processor is shutting down', { retriable: true })
  }
}
