import {
  type BusMessage,
  ConsentEnvelope,
  ConsentSource,
  Envelope,
  EpochMs,
  EventType,
  ID_PATTERN,
  LIMITS,
  NO_CONTROLS,
  SEALED_IP_PATTERN,
} from '@atspark/schemas'

/*
 * A hand-written check of BusMessage for the consumer's hot path: it answers only "valid or not", and a
 * message it accepts is handed on as JSON.parse made it (BusMessage has no defaults, coercions or
 * transforms, so zod's output equals its input). zod stays the source of truth: whatever this refuses
 * goes through BusMessage.safeParse, which either accepts it after all (the one case left to it: a
 * `__proto__` prop key, which zod's record output drops) or names the reason for the DLQ.
 * bus-check.test.ts proves, property by property, that both accept exactly the same messages.
 */

/** The uuid patterns are read from the zod schemas themselves, so the two cannot drift apart. */
function uuidPattern(schema: { _zod: { def: { pattern?: RegExp } } }, where: string): RegExp {
  const pattern = schema._zod.def.pattern
  if (!pattern) throw new Error(`${where} has no pattern`)
  return pattern
}
const EVENT_ID = uuidPattern(Envelope.shape.events.element.shape.id, 'WireEvent.id')
const RECEIPT_ID = uuidPattern(ConsentEnvelope.shape.receipt.shape.id, 'receipt.id')
const EVENT_TYPES: ReadonlySet<unknown> = new Set(EventType.options)
const SOURCES: ReadonlySet<unknown> = new Set(ConsentSource.options)
const MIN_TIME = EpochMs.minValue ?? 0
const MAX_TIME = EpochMs.maxValue ?? Number.MAX_SAFE_INTEGER

type Fields = Record<string, unknown>

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `z.string().min(min).max(max)`: lengths in UTF-16 units, as zod counts them. */
const isString = (v: unknown, max: number, min = 0): boolean => typeof v === 'string' && v.length <= max && v.length >= min

/** label(max) in wire.ts: a bounded string without control characters. */
const isLabel = (v: unknown, max: number, min = 0): boolean => isString(v, max, min) && NO_CONTROLS.test(v as string)

/** `z.number().int()`: zod 4 means a safe integer. */
const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v)

/** EpochMs and the wire's client clocks: integers within 2000–2100. */
const isEpochMs = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= MIN_TIME && v <= MAX_TIME

const isId = (v: unknown): boolean => typeof v === 'string' && v.length <= LIMITS.idLength && ID_PATTERN.test(v)

const isScreen = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100_000

function isPropValue(v: unknown): boolean {
  if (typeof v === 'string') return v.length <= LIMITS.propValueLength && !v.includes('\u0000')
  if (typeof v === 'number') return Number.isFinite(v)
  return v === null || typeof v === 'boolean'
}

function isProps(v: unknown): boolean {
  if (!isFields(v)) return false
  let count = 0
  for (const key in v) {
    // zod's record output drops a `__proto__` key: leave that rare case to zod, so both hand on the same value.
    if (key === '__proto__' || !isLabel(key, LIMITS.propKeyLength, 1) || !isPropValue(v[key])) return false
    if (++count > LIMITS.propsKeys) return false
  }
  return true
}

/** WireEvent: three required keys, the rest optional (an optional key may hold undefined, as zod allows). */
function isEvent(v: unknown): boolean {
  if (!isFields(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case 'id':
        if (typeof x !== 'string' || !EVENT_ID.test(x)) return false
        required++
        continue
      case 't':
        if (!EVENT_TYPES.has(x)) return false
        required++
        continue
      case 'ts':
        if (!isEpochMs(x)) return false
        required++
        continue
    }
    if (x === undefined) {
      if (!OPTIONAL_EVENT_KEYS.has(key)) return false
      continue
    }
    switch (key) {
      case 'n':
        if (!isLabel(x, LIMITS.nameLength, 1)) return false
        break
      case 'a':
      case 's':
        if (!isId(x)) return false
        break
      case 'uid':
        if (!isLabel(x, LIMITS.userIdLength, 1)) return false
        break
      case 'u':
      case 'r':
        if (!isLabel(x, LIMITS.urlLength)) return false
        break
      case 'p':
        if (!isProps(x)) return false
        break
      case 'sw':
      case 'sh':
        if (!isScreen(x)) return false
        break
      case 'l':
        if (!isLabel(x, 35)) return false
        break
      case 'tz':
        if (!isLabel(x, 64)) return false
        break
      default:
        return false
    }
  }
  return required === 3
}
const OPTIONAL_EVENT_KEYS: ReadonlySet<string> = new Set(['n', 'a', 's', 'uid', 'u', 'r', 'p', 'sw', 'sh', 'l', 'tz'])

function isEvents(v: unknown): boolean {
  if (!Array.isArray(v) || v.length < 1 || v.length > LIMITS.eventsPerBatch) return false
  for (let i = 0; i < v.length; i++) if (!isEvent(v[i])) return false
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
