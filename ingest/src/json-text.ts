import { InputErrorCode, LIMITS } from '@atspark/schemas'
import { BadRequestError } from '@atspark/runtime'

// fatal: invalid UTF-8 is refused rather than silently turned into U+FFFD; a leading UTF-8 BOM is dropped (ignoreBOM: false).
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The body as text: strict UTF-8 (RFC 8259 §8.1), one leading BOM tolerated and dropped. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw new BadRequestError(InputErrorCode.invalidUtf8, 'body is not valid UTF-8')
  }
}

/** Refuses JSON nested deeper than `max` with one linear scan, before the parser sees it. */
export function assertJsonDepth(text: string, max: number = LIMITS.jsonDepth): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 0x5c) i++ // backslash: skip the escaped character
      else if (ch === 0x22) inString = false
    } else if (ch === 0x22) inString = true
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > max) throw new BadRequestError(InputErrorCode.nestingTooDeep, `JSON is nested deeper than ${max} levels`)
    } else if (ch === 0x7d || ch === 0x5d) depth--
  }
}

/**
 * The same bound on a parsed value (for valid JSON, bracket depth is container depth), stopping as soon
 * as it is passed, so the walk never goes deeper than `max` + 1.
 */
export function assertValueDepth(value: unknown, max: number = LIMITS.jsonDepth): void {
  if (typeof value !== 'object' || value === null) return
  if (max < 1) throw new BadRequestError(InputErrorCode.nestingTooDeep, `JSON is nested deeper than ${LIMITS.jsonDepth} levels`)
  if (Array.isArray(value)) for (const item of value) assertValueDepth(item, max - 1)
  else for (const key in value) assertValueDepth((value as Record<string, unknown>)[key], max - 1)
}

// A lone surrogate can only come from a \uD800–\uDFFF escape (strict UTF-8 decoding yields none).
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/

/** False when no string of the text can hold a lone surrogate, so the wellFormed walk can be skipped. */
export function mayHoldLoneSurrogate(text: string): boolean {
  return SURROGATE_ESCAPE.test(text)
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new BadRequestError(InputErrorCode.malformedJson, 'body is not valid JSON')
  }
}

const HAS_LONE_SURROGATE = /\p{Cs}/u
const LONE_SURROGATES = /\p{Cs}/gu

/**
 * Replaces lone surrogates in every string and key with U+FFFD, in place where possible. The SDK cuts
 * long strings by UTF-16 length, which can split a pair, so refusing them would lose honest events;
 * U+FFFD is what any UTF-8 encoder downstream would write anyway. Depth is already bounded.
 */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return HAS_LONE_SURROGATE.test(value) ? value.replace(LONE_SURROGATES, '\uFFFD') : value
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = wellFormed(value[i])
    return value
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const fixed = wellFormed(key) as string
      const inner = wellFormed(record[key])
      if (fixed === key && inner === record[key]) continue
      if (fixed !== key) delete record[key]
      // defineProperty, not assignment: a key named __proto__ must stay a plain own property.
      Object.defineProperty(record, fixed, { value: inner, writable: true, enumerable: true, configurable: true })
    }
  }
  return value
}
