import type { BusMessage, Envelope } from '@atspark/schemas'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c

/** Index of the quote closing the string that opens at `open`. */
function stringEnd(text: string, open: number): number {
  let end = text.indexOf('"', open + 1)
  for (;;) {
    let slashes = 0
    while (text.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++
    if (slashes % 2 === 0) return end
    end = text.indexOf('"', end + 1)
  }
}

/**
 * The text of the top-level object's `key` member when its value is an array, in a text JSON.parse has
 * accepted (so it is well formed). Undefined when that is not certain from the text alone: the top level is
 * not an object, the key is missing or its value no array, or any top-level key is written with an escape
 * (`"\u0065"` parses as `"e"`). Duplicate keys resolve to the last one, as in JSON.parse.
 */
export function topLevelArrayText(text: string, key: string): string | undefined {
  let depth = 0
  let wantKey = false
  let lastKey = ''
  let start = -1
  let found: string | undefined
  const n = text.length
  for (let i = 0; i < n; i++) {
    const ch = text.charCodeAt(i)
    if (ch === QUOTE) {
      const end = stringEnd(text, i)
      if (depth === 1 && wantKey) {
        lastKey = text.slice(i + 1, end)
        if (lastKey.includes('\\')) return undefined
        // A later duplicate supersedes, whatever its value turns out to be.
        if (lastKey === key) found = undefined
        wantKey = false
      }
      i = end
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (depth === 0 && ch !== OPEN_BRACE) return undefined
      if (depth === 1 && ch === OPEN_BRACKET && lastKey === key) start = i
      depth++
      if (depth === 1) wantKey = true
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--
      if (depth === 1 && start >= 0) {
        found = text.slice(start, i + 1)
        start = -1
      }
    } else if (ch === COMMA && depth === 1) {
      wantKey = true
      lastKey = ''
    }
  }
  return found
}

/** JSON texts assembled from the request's own bytes, by message: the bus sends these instead of re-serializing. */
const assembled = new WeakMap<BusMessage, string>()

/**
 * Records the JSON of an envelope whose events are, value for value, the request's `eventsText` (the
 * caller vouches: every event passed the check unchanged and none was dropped). The bus then sends the
 * envelope's own fields serialized plus those bytes, instead of re-serializing every event.
 */
export function assembleEnvelopeJson(envelope: Envelope, eventsText: string): void {
  const { events: _events, ...stamp } = envelope
  assembled.set(envelope, `${JSON.stringify(stamp).slice(0, -1)},"events":${eventsText}}`)
}

/** A message's JSON for the bus: the assembled text when there is one, else JSON.stringify. */
export function busJson(message: BusMessage): string {
  return assembled.get(message) ?? JSON.stringify(message)
}
