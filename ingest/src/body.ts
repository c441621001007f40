import { LIMITS, WireBatchShell, WireConsentReceipt, WireEvent } from '@atspark/schemas'
import type { z } from 'zod'
import { BadRequestError, UnsupportedMediaTypeError } from './errors.js'

export interface RejectedEvent {
  index: number
  reason: string
}

export interface ParsedBatch {
  batch: WireBatchShell
  events: WireEvent[]
  rejected: RejectedEvent[]
}

/** application/json from fetch, text/plain from sendBeacon (a CORS-safelisted type, so no preflight). */
export function assertBatchMediaType(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type !== 'application/json' && type !== 'text/plain') throw new UnsupportedMediaTypeError(type)
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new BadRequestError('malformed_json', 'body is not valid JSON')
  }
}

/** Parses and validates a consent receipt body. */
export function parseReceipt(text: string): WireConsentReceipt {
  const parsed = WireConsentReceipt.safeParse(parseJson(text))
  if (!parsed.success) throw new BadRequestError('invalid_receipt', describeIssues(parsed.error))
  return parsed.data
}

/** Parses and validates a batch body; bad events are rejected one by one so the valid ones still land. */
export function parseBatch(text: string): ParsedBatch {
  const shell = WireBatchShell.safeParse(parseJson(text))
  if (!shell.success) throw new BadRequestError('invalid_batch', describeIssues(shell.error))
  const events: WireEvent[] = []
  const rejected: RejectedEvent[] = []
  shell.data.e.forEach((raw, index) => {
    const parsed = WireEvent.safeParse(raw)
    if (parsed.success) events.push(parsed.data)
    else rejected.push({ index, reason: describeIssues(parsed.error) })
  })
  if (events.length === 0) {
    throw new BadRequestError('invalid_events', `no valid event: ${rejected.map((r) => `e[${r.index}]: ${r.reason}`).join('; ')}`)
  }
  return { batch: shell.data, events, rejected }
}

/** One line per issue, `path: message`, capped so a hostile body cannot inflate the answer. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ')
    .slice(0, LIMITS.propValueLength)
}
