/** Base of every ingest error: an HTTP status, a stable code, and whether retrying can help. */
export class IngestError extends Error {
  readonly status: 400 | 401 | 403 | 408 | 413 | 415 | 503
  readonly code: string
  readonly retriable: boolean

  constructor(status: IngestError['status'], code: string, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.status = status
    this.code = code
    this.retriable = options?.retriable ?? false
  }
}

export class BadRequestError extends IngestError {
  constructor(code: string, message: string, cause?: unknown) {
    super(400, code, message, { cause })
  }
}

export class UnauthorizedError extends IngestError {
  constructor(message: string) {
    super(401, 'unknown_write_key', message)
  }
}

export class ForbiddenError extends IngestError {
  constructor(message: string) {
    super(403, 'origin_not_allowed', message)
  }
}

export class PayloadTooLargeError extends IngestError {
  /** `what` says which count went over: the declared Content-Length, the wire bytes, or the decompressed bytes. */
  constructor(limit: number, what = 'request body') {
    super(413, 'body_too_large', `${what} exceeds ${limit} bytes`)
  }
}

/** The body did not arrive in time (INGEST_BODY_TIMEOUT_MS): a slow upload loses its own request, not anyone's slot. */
export class BodyTimeoutError extends IngestError {
  constructor(timeoutMs: number) {
    super(408, 'body_timeout', `the request body did not arrive within ${timeoutMs} ms of its headers`)
  }
}

export class UnsupportedEncodingError extends IngestError {
  constructor(encoding: string) {
    super(415, 'unsupported_encoding', `content-encoding ${JSON.stringify(encoding.slice(0, 64))} is not one of identity, gzip, deflate, br`)
  }
}

export class UnsupportedMediaTypeError extends IngestError {
  constructor(type: string) {
    super(415, 'unsupported_media_type', `content-type ${type || '(none)'} is not application/json or text/plain`)
  }
}

/** The bus could not take the batch; the client should retry after `retryAfterSeconds`. */
export class BusUnavailableError extends IngestError {
  readonly retryAfterSeconds: number

  constructor(message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(503, 'bus_unavailable', message, { cause: options?.cause, retriable: true })
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 2
  }
}

/** More items are waiting than the bound allows; the caller sheds load instead of queueing. */
export class BackpressureError extends IngestError {
  constructor(queued: number, limit: number) {
    super(503, 'backpressure', `${queued} items already waiting (limit ${limit})`, { retriable: true })
  }
}

export class ShuttingDownError extends IngestError {
  constructor() {
    super(503, 'shutting_down', 'shutting down', { retriable: true })
  }
}
