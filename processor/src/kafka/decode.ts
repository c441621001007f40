import { BusMessage } from '@atspark/schemas'
import { isBusMessage } from './bus-check.js'

export type Decoded = { ok: true; message: BusMessage } | { ok: false; reason: string }

/** The reason zod gives for a refused message, for the DLQ record. */
function schemaReason(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issues = error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
  return `schema: ${issues.join('; ')}`
}

/** The record's JSON, or why it is poison before any schema is asked. */
function parseRecord(value: Buffer | null): { json: unknown } | { ok: false; reason: string } {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' }
  try {
    return { json: JSON.parse(value.toString('utf8')) }
  } catch {
    return { ok: false, reason: 'not valid JSON' }
  }
}

/**
 * A raw topic record → a bus message, or the reason it is poison. The bus is not trusted: every
 * message is checked against BusMessage, by the hand-written check (bus-check.ts) and, for what it
 * refuses, by zod itself, which alone decides and names the reason.
 */
export function decodeMessage(value: Buffer | null): Decoded {
  const record = parseRecord(value)
  if (!('json' in record)) return record
  if (isBusMessage(record.json)) return { ok: true, message: record.json }
  return decodeByZod(record.json)
}

/** decodeMessage by zod alone, as it was before the hand-written check: the reference its test compares with. */
export function decodeMessageByZod(value: Buffer | null): Decoded {
  const record = parseRecord(value)
  return 'json' in record ? decodeByZod(record.json) : record
}

function decodeByZod(json: unknown): Decoded {
  const parsed = BusMessage.safeParse(json)
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, reason: schemaReason(parsed.error) }
}
