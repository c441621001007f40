import { BusMessage } from '@atspark/schemas'

export type Decoded = { ok: true; message: BusMessage } | { ok: false; reason: string }

/** A raw topic record → a bus message, or the reason it is poison. */
export function decodeMessage(value: Buffer | null): Decoded {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' }
  let json: unknown
  try {
    json = JSON.parse(value.toString('utf8'))
  } catch {
    return { ok: false, reason: 'not valid JSON' }
  }
  const parsed = BusMessage.safeParse(json)
  if (parsed.success) return { ok: true, message: parsed.data }
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
  return { ok: false, reason: `schema: ${issues.join('; ')}` }
}
