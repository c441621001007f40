import { LIMITS, WireBatchShell, WireEvent } from '@atspark/schemas'
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

/** Parses and validates a batch body; bad events are rejected one by one so the valid ones still land. */
export function parseBatch(text: string): ParsedBatch {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new BadRequestError('malformed_json', 'body is not valid JSON')
  }
  const shell = WireBatchShell.safeParse(json)
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
