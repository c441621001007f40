import { InputErrorCode, LIMITS, splitCodedMessage, WireBatchShell, WireConsentReceipt, WireEvent } from '@atspark/schemas'
import type { IncomingMessage } from 'node:http'
import type { z } from 'zod'
import { readBody, readIncoming, BadRequestError, UnsupportedMediaTypeError } from '@atspark/runtime'
import { assertJsonDepth, assertValueDepth, decodeUtf8, mayHoldLoneSurrogate, parseJson, wellFormed } from './json-text.js'
import { isBatchShell, isWireEvent } from './wire-check.js'

export { parseJson } from './json-text.js'

/** One event refused on its own: its position, the named limit it broke, and a readable reason. */
export interface RejectedEvent {
  index: number
  code: InputErrorCode
  reason: string
}

export interface ParsedBatch {
  batch: WireBatchShell
  events: WireEvent[]
  rejected: RejectedEvent[]
  /** Every event of the body passed the fast check as it was: `events` is the body's array, value for value. */
  verbatim: boolean
}

/** application/json from fetch, text/plain from sendBeacon (a CORS-safelisted type, so no preflight). */
export function assertBatchMediaType(contentType: string | undefined): void {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
  if (type !== 'application/json' && type !== 'text/plain') throw new UnsupportedMediaTypeError(type.slice(0, 64))
}

/**
 * The body as JSON, every input limit applied in order of cost: encoding and size while streaming
 * (body-reader), strict UTF-8, then the parse, lone surrogates made well formed. Nesting depth: text
 * that does not parse is scanned for it (nesting_too_deep wins over malformed_json, as before any
 * parse); parsed values are bounded by parseBatch/parseReceipt, whose fast check only passes depth ≤ 4.
 * `source`: node's IncomingMessage when served (the cheap read), else the web Request (app.request()).
 */
export async function readJson(source: Request | IncomingMessage, limit: number): Promise<unknown> {
  return (await readJsonBody(source, limit)).json
}

/** A parsed body with its text; `exact`: the value is JSON.parse(text) unchanged (no lone surrogate was replaced). */
export interface JsonBody {
  json: unknown
  text: string
  exact: boolean
}

/** readJson, keeping the text (the bus can reuse its bytes: bus-json.ts). */
export async function readJsonBody(source: Request | IncomingMessage, limit: number): Promise<JsonBody> {
  const bytes = source instanceof Request ? await readBody(source, limit) : await readIncoming(source, limit)
  return jsonBodyOf(decodeUtf8(bytes))
}

/** JSON.parse plus the checks around it, paid only by the texts that can need them. */
export function jsonOf(text: string): unknown {
  return jsonBodyOf(text).json
}

function jsonBodyOf(text: string): JsonBody {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    assertJsonDepth(text)
    return { json: parseJson(text), text, exact: true }
  }
  if (!mayHoldLoneSurrogate(text)) return { json: value, text, exact: true }
  // The walk recurses, so the depth bound comes first.
  assertJsonDepth(text)
  return { json: wellFormed(value), text, exact: false }
}

/** Validates a consent receipt. */
export function parseReceipt(json: unknown): WireConsentReceipt {
  assertValueDepth(json)
  const parsed = WireConsentReceipt.safeParse(json)
  if (!parsed.success) throw new BadRequestError(InputErrorCode.invalidReceipt, describeIssues(parsed.error))
  return parsed.data
}

/**
 * Validates a batch: its envelope as a whole (a 400 naming the limit), then each event on its own, so a
 * bad event is rejected with its code and reason while the valid ones in the same batch still land.
 * A batch with no valid event is returned as such: the caller counts the rejections, then refuses it.
 */
export function parseBatch(json: unknown): ParsedBatch {
  return validateBatch(json, true)
}

/** parseBatch with zod alone: the reference the compiled check is tested against (wire-check.test.ts). */
export function parseBatchByZod(json: unknown): ParsedBatch {
  return validateBatch(json, false)
}

function validateBatch(json: unknown, fast: boolean): ParsedBatch {
  const batch = fast && isBatchShell(json) ? json : zodShell(json)
  const sentAt = batch.sa
  const events: WireEvent[] = []
  const rejected: RejectedEvent[] = []
  const raws = batch.e
  let verbatim = fast && batch === json
  for (let index = 0; index < raws.length; index++) {
    const raw = raws[index]
    // The compiled check passes what zod passes (wire-check.test.ts); zod names the reason of the rest.
    let event: WireEvent
    if (fast && isWireEvent(raw)) event = raw
    else {
      verbatim = false
      // Events sit at depth 3 of the body (batch, e, event): the body's depth bound, where the fast check did not vouch for it.
      assertValueDepth(raw, LIMITS.jsonDepth - 2)
      const parsed = WireEvent.safeParse(raw)
      if (!parsed.success) {
        rejected.push({ index, code: codeOf(parsed.error, InputErrorCode.invalidEvent), reason: describeIssues(parsed.error) })
        continue
      }
      event = parsed.data
    }
    const late = eventTimeIssue(event.ts, sentAt)
    if (late) {
      rejected.push({ index, code: InputErrorCode.timestampOutOfRange, reason: late })
      verbatim = false
    } else events.push(event)
  }
  return { batch, events, rejected, verbatim }
}

/** The slow path for a batch the compiled check refused: the depth bound, then zod's verdict and reasons. */
function zodShell(json: unknown): WireBatchShell {
  assertValueDepth(json)
  const shell = WireBatchShell.safeParse(json)
  if (!shell.success) throw new BadRequestError(codeOf(shell.error, InputErrorCode.invalidBatch), describeIssues(shell.error))
  return shell.data
}

/** The 400 for a batch none of whose events was valid, naming each event's reason. */
export function noValidEvent(rejected: readonly RejectedEvent[]): BadRequestError {
  const reasons = rejected.map((r) => `e[${r.index}] ${r.code}: ${r.reason}`).join('; ')
  return new BadRequestError(InputErrorCode.invalidEvents, `no valid event: ${reasons}`.slice(0, 2 * LIMITS.propValueLength))
}

const DAY_MS = 86_400_000

/**
 * Client clocks are corrected by the processor (ts + received_at − sent_at, never after receipt), so only
 * the gap between an event and its batch's sent_at matters: older than the late-arrival window would
 * rewrite settled reports (rejected); a little after sent_at is a clock step (kept, clamped downstream);
 * far after is no clock at all (rejected).
 */
export function eventTimeIssue(ts: number, sentAt: number): string | undefined {
  if (ts < sentAt - LIMITS.eventMaxAgeMs) return `ts: more than ${LIMITS.eventMaxAgeMs / DAY_MS} days before sent_at`
  if (ts > sentAt + LIMITS.eventMaxLeadMs) return `ts: more than ${LIMITS.eventMaxLeadMs / 3_600_000} hours after sent_at`
  return undefined
}

/** The first named limit among the issues (record keys carry theirs one level down), else `fallback`. */
function codeOf(error: z.ZodError, fallback: InputErrorCode): InputErrorCode {
  for (const issue of error.issues) {
    const code = splitCodedMessage(issue.message).code ?? nestedIssues(issue).map((i) => splitCodedMessage(i.message).code).find(Boolean)
    if (code) return code
  }
  return fallback
}

function nestedIssues(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  return issue.code === 'invalid_key' || issue.code === 'invalid_element' ? issue.issues : []
}

/** One line per issue, `path: message`, capped so a hostile body cannot inflate the answer. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const inner = nestedIssues(issue)[0]
      const text = splitCodedMessage(inner?.message ?? issue.message).text
      // Keys are the client's text: shorten them so the answer stays small.
      const path = issue.path.map((p) => String(p).slice(0, 64)).join('.')
      return `${path || '(root)'}: ${text}`
    })
    .join('; ')
    .slice(0, LIMITS.propValueLength)
}
