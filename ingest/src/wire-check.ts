import { EpochMs, EventType, ID_PATTERN, LIMITS, NO_CONTROLS, PrivacySignal, type WireBatchShell, WireEvent } from '@atspark/schemas'

/*
 * A hand-tuned check of WireBatchShell and WireEvent for the hot path: it answers only "valid or not".
 * zod stays the source of truth: whatever this refuses goes through zod for the code and reason, and
 * wire-check.test.ts proves, property by property, that both accept exactly the same inputs.
 */

// The uuid pattern is read from the zod schema itself, so the two cannot drift apart.
const UUID: RegExp = (() => {
  const pattern = WireEvent.shape.id._zod.def.pattern
  if (!pattern) throw new Error('WireEvent.id has no pattern')
  return pattern
})()
const EVENT_TYPES: ReadonlySet<unknown> = new Set(EventType.options)
const SIGNALS: ReadonlySet<unknown> = new Set(PrivacySignal.options)
const MIN_TIME = EpochMs.minValue ?? 0
const MAX_TIME = EpochMs.maxValue ?? Number.MAX_SAFE_INTEGER

type Fields = Record<string, unknown>

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v)

/** label(max) in wire.ts: a string of min…max UTF-16 units without control characters. */
const isLabel = (v: unknown, max: number, min = 0): boolean => typeof v === 'string' && v.length <= max && v.length >= min && NO_CONTROLS.test(v)

const isClientTime = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= MIN_TIME && v <= MAX_TIME

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

/** WireEvent.safeParse(v).success, without building issues or a copy. */
export function isWireEvent(v: unknown): v is WireEvent {
  if (!isFields(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case 'id':
        if (typeof x !== 'string' || !UUID.test(x)) return false
        required++
        break
      case 't':
        if (!EVENT_TYPES.has(x)) return false
        required++
        break
      case 'ts':
        if (!isClientTime(x)) return false
        required++
        break
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

function isConsent(v: unknown): boolean {
  if (!isFields(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    if (key === 'a' || key === 'p') {
      if (typeof x !== 'boolean') return false
      required++
    } else if (key === 'r') {
      if (!isLabel(x, 64)) return false
    } else if (key !== 'b' || !SIGNALS.has(x)) return false
  }
  return required === 2
}

/** WireBatchShell.safeParse(v).success: the batch with its events left for isWireEvent. */
export function isBatchShell(v: unknown): v is WireBatchShell {
  if (!isFields(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case 'v':
        if (x !== 1) return false
        break
      case 'k':
        if (!isLabel(x, 128, 1)) return false
        break
      case 'sa':
        if (!isClientTime(x)) return false
        break
      case 'c':
        if (!isConsent(x)) return false
        break
      case 'e':
        if (!Array.isArray(x) || x.length < 1 || x.length > LIMITS.eventsPerBatch) return false
        break
      default:
        return false
    }
    required++
  }
  return required === 5
}
