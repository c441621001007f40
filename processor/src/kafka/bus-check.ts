import {
  type BusMessage,
  ConsentEnvelope,
  ConsentSource,
  type Fields,
  isEpochMs,
  isFields,
  isString,
  isWireEvent,
  LIMITS,
  patternOf,
  SEALED_IP_PATTERN,
} from '@atspark/schemas'

/*
 * A hand-written check of BusMessage for the consumer's hot path (events: isWireEvent, shared with ingest in
 * @atspark/schemas): it answers only "valid or not", and a message it accepts is handed on as JSON.parse made
 * it (BusMessage has no defaults, coercions or transforms, so zod's output equals its input). zod stays the
 * source of truth: whatever this refuses goes through BusMessage.safeParse, which names the reason for the DLQ
 * (reserved prop keys such as `__proto__` are refused by both). bus-check.test.ts proves, property by property,
 * that both accept exactly the same messages.
 */

const RECEIPT_ID = patternOf(ConsentEnvelope.shape.receipt.shape.id, 'receipt.id')
const SOURCES: ReadonlySet<unknown> = new Set(ConsentSource.options)

/** `z.number().int()`: zod 4 means a safe integer. */
const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v)

function isEvents(v: unknown): boolean {
  if (!Array.isArray(v) || v.length < 1 || v.length > LIMITS.eventsPerBatch) return false
  for (let i = 0; i < v.length; i++) if (!isWireEvent(v[i])) return false
  return true
}

/** Envelope (kind "events"): every key but policy_revision is required. */
function isEnvelope(v: Fields): boolean {
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case 'v':
        if (x !== 1) return false
        break
      case 'kind':
        break
      case 'org_id':
      case 'site_id':
        if (!isString(x, Number.POSITIVE_INFINITY, 1)) return false
        break
      case 'received_at':
      case 'sent_at':
        if (!isInt(x)) return false
        break
      case 'ip_sealed':
        if (typeof x !== 'string' || !SEALED_IP_PATTERN.test(x)) return false
        break
      case 'ua':
        if (!isString(x, LIMITS.userAgentLength)) return false
        break
      case 'policy_revision':
        if (x !== undefined && !isString(x, 64)) return false
        continue
      case 'events':
        if (!isEvents(x)) return false
        break
      default:
        return false
    }
    required++
  }
  return required === 9
}

/** WireConsentReceipt without `k`: every key required. */
function isReceipt(v: unknown): boolean {
  if (!isFields(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case 'v':
        if (x !== 1) return false
        break
      case 'id':
        if (typeof x !== 'string' || !RECEIPT_ID.test(x)) return false
        break
      case 'ts':
      case 'sa':
        if (!isEpochMs(x)) return false
        break
      case 'a':
      case 'p':
        if (typeof x !== 'boolean') return false
        break
      case 'src':
        if (!SOURCES.has(x)) return false
        break
      case 'r':
        if (!isString(x, 64)) return false
        break
      default:
        return false
    }
    required++
  }
  return required === 8
}

/** ConsentEnvelope (kind "consent"): every key required. */
function isConsentEnvelope(v: Fields): boolean {
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case 'v':
        if (x !== 1) return false
        break
      case 'kind':
        break
      case 'org_id':
      case 'site_id':
        if (!isString(x, Number.POSITIVE_INFINITY, 1)) return false
        break
      case 'received_at':
        if (!isInt(x)) return false
        break
      case 'receipt':
        if (!isReceipt(x)) return false
        break
      default:
        return false
    }
    required++
  }
  return required === 6
}

/** BusMessage.safeParse(v).success with zod's output equal to `v`, without building issues or a copy. */
export function isBusMessage(v: unknown): v is BusMessage {
  if (!isFields(v)) return false
  const kind = v.kind
  if (kind === 'events') return isEnvelope(v)
  if (kind === 'consent') return isConsentEnvelope(v)
  return false
}
