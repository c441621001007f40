import { StatsErrorCode } from '@atspark/schemas'

/**
 * A stats query the warehouse refused or could not run. It keeps the query id and the engine's error code
 * and type only: the engine's message quotes the SQL with every parameter inlined (the site, the dates, a
 * feature name), so it is never logged or answered; an operator finds the query by its id in the query log.
 */
export class StatsQueryError extends Error {
  constructor(
    readonly queryId: string,
    readonly code: string,
    readonly type: string | undefined,
  ) {
    super(`warehouse query ${queryId} failed with code ${code}`)
    this.name = 'StatsQueryError'
  }

  /** From whatever the client threw: ClickHouseError and chDB carry a numeric `code` and a `type`, socket errors a `code` like ECONNREFUSED. */
  static from(queryId: string, err: unknown): StatsQueryError {
    const e = (err ?? {}) as { code?: unknown; type?: unknown; name?: unknown; message?: unknown }
    let code = 'unknown'
    if (typeof e.code === 'string' || typeof e.code === 'number') code = String(e.code)
    // The HTTP client's own deadline is a bare Error; its message is fixed text, read only to name it.
    else if (typeof e.message === 'string' && e.message.startsWith('Timeout error')) code = 'REQUEST_TIMEOUT'
    else if (typeof e.name === 'string' && e.name !== 'Error') code = e.name
    return new StatsQueryError(queryId, code, typeof e.type === 'string' ? e.type : undefined)
  }
}

/** How the API answers a failed query: whose fault it is, and what the client is told (never the engine's message). */
export interface QueryFailureAnswer {
  status: 400 | 500 | 503
  error: string
  message: string
}

/** Engine codes that mean a parameter value was refused: the input's fault, though the checks should have caught it first. */
const INPUT_CODES: Readonly<Record<string, string>> = {
  '6': 'CANNOT_PARSE_TEXT',
  '36': 'BAD_ARGUMENTS',
  '38': 'CANNOT_PARSE_DATE',
  '41': 'CANNOT_PARSE_DATETIME',
  '457': 'BAD_QUERY_PARAMETER',
}
/** The answer would exceed max_result_rows: a narrower range answers. */
const TOO_MANY_ROWS = new Set(['158', '396'])
/** TIMEOUT_EXCEEDED: max_execution_time was hit. */
const TIMEOUT = '159'
/** Overload, memory and connection trouble: retrying later may work. */
const UNAVAILABLE = new Set(['202', '209', '210', '241', '394', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'REQUEST_TIMEOUT'])

export function answerQueryFailure(err: StatsQueryError): QueryFailureAnswer {
  if (INPUT_CODES[err.code] !== undefined) return { status: 400, error: StatsErrorCode.invalidRequest, message: 'the warehouse refused a value of this request' }
  if (TOO_MANY_ROWS.has(err.code)) return { status: 400, error: StatsErrorCode.invalidRange, message: 'the answer would be too large; narrow the range' }
  if (err.code === TIMEOUT) return { status: 503, error: 'timeout', message: 'the query took too long; narrow the range' }
  if (UNAVAILABLE.has(err.code)) return { status: 503, error: 'warehouse_unavailable', message: 'the warehouse cannot answer now; try again later' }
  return { status: 500, error: 'internal', message: 'internal error' }
}
