import { LIMITS } from './constants.js'
import { EventType } from './events.js'
import { EpochMs } from './primitives.js'
import { ID_PATTERN, isPropKey, NO_CONTROLS, WireEvent } from './wire.js'

/*
 * Hand-tuned checks of the wire's shapes for the hot paths (ingest's body, the processor's bus messages):
 * they answer only "valid or not", and what they accept zod accepts with an output equal to the input.
 * zod stays the source of truth: callers send whatever these refuse through zod for the verdict and the
 * reason, and differential tests (ingest/src/wire-check.test.ts, processor/src/kafka/bus-check.test.ts)
 * prove both accept exactly the same inputs.
 */

/** A uuid pattern read from a zod schema itself, so the two cannot drift apart. */
export function patternOf(schema: { _zod: { def: { pattern?: RegExp } } }, where: string): RegExp {
  const pattern = schema._zod.def.pattern
  if (!pattern) throw new Error(`${where} has no pattern`)
  return pattern
}

const EVENT_ID = patternOf(WireEvent.shape.id, 'WireEvent.id')
const EVENT_TYPES: ReadonlySet<unknown> = new Set(EventType.options)
const MIN_TIME = EpochMs.minValue ?? 0
const MAX_TIME = EpochMs.maxValue ?? Number.MAX_SAFE_INTEGER

export type Fields = Record<string, unknown>

export const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `z.string().min(min).max(max)`: lengths in UTF-16 units, as zod counts them. */
export const isString = (v: unknown, max: number, min = 0): boolean => typeof v === 'string' && v.length <= max && v.length >= min

/** label(max) in wire.ts: a bounded string without control characters. */
export const isLabel = (v: unknown, max: number, min = 0): boolean => isString(v, max, min) && NO_CONTROLS.test(v as string)

/** EpochMs and the wire's client clocks: integers within 2000–2100. */
export const isEpochMs = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= MIN_TIME && v <= MAX_TIME

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
    if (!isPropKey(key) || !isPropValue(v[key])) return false
    if (++count > LIMITS.propsKeys) return false
  }
  return true
}

const OPTIONAL_EVENT_KEYS: ReadonlySet<string> = new Set(['n', 'a', 's', 'uid', 'u', 'r', 'p', 'sw', 'sh', 'l', 'tz'])

/** WireEvent.safeParse(v).success, without building issues or a copy: three required keys, the rest optional (an optional key may hold undefined, as zod allows). */
export function isWireEvent(v: unknown): v is WireEvent {
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
