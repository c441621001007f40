import { StatsErrorCode } from '@atspark/schemas'

/** A request the input is to blame for: a 400 with a reason code and, where one is, the parameter at fault. */
export class StatsRequestError extends Error {
  constructor(
    message: string,
    readonly code: StatsErrorCode = StatsErrorCode.invalidRequest,
    readonly param?: string,
  ) {
    super(message)
  }
}
