import { BusMessage } from '@atspark/schemas'
import { isBusMessage } from './bus-check.js'

export type Decoded = { ok: true; message: BusMessage } | { ok: false; reason: string }

/** The reason zod gives for a refused message, for the DLQ record. */
function schemaReason(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  const issues = error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
  return `schema: ${issues.join('; ')}`
}

/**
 * A raw topic record → a bus message, or the reason it is poison. The bus is not trusted: every
 * message is checked against BusMessage, by the hand-written check (bus-check.ts) and, for what it
 * refuses, by zod itself, which alone decides and names the reason.
 */
export function decodeMessage(value: Buffer | null): Decoded {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' }
  let json: unknown
  try {
    json = JSON.parse(value.toString('utf8'))
  } catch {
    return { ok: false, reason: 'not valid JSON' }
  }
  if (isBusMessage(json)) return { ok: true, message: json }
  const parsed = BusMessage.safeParse(json)
  if (parsed.success) return { ok: true, message: parsed.data }
  return { ok: false, reason: schemaReason(parsed.error) }
}

/** decodeMessage by zod alone, as it was before the hand-written check: the reference its test compares with. */
export function decodeMessageByZod(value: Buffer | null): Decoded {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' }
  let json: unknown
  try {
    json = JSON.parse(value.toString('utf8'))
  } catch {
    return { ok: false, reason: 'not valid JSON' }
  }
  const parsed = BusMessage.safeParse(json)
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, reason: schemaReason(parsed.error) }
}
