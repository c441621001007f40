import { z } from 'zod'
import { LIMITS } from './constants.js'
import { PrivacySignal } from './consent.js'
import { EventType } from './events.js'
import { EpochMs } from './primitives.js'

/**
 * The codes ingest names bad input with, in 4xx answers (`error`), per rejected event (`rejected[].code`)
 * and as the `reason` label of its counters. Stable: clients, alerts and docs/wire.md depend on them.
 */
export const InputErrorCode = {
  /** The body (declared, on the wire, or decompressed) is over the limit: 413. */
  bodyTooLarge: 'body_too_large',
  /** Content-Type is neither application/json nor text/plain: 415. */
  unsupportedMediaType: 'unsupported_media_type',
  /** Content-Encoding is not identity, gzip, deflate or br (or stacks several): 415. */
  unsupportedEncoding: 'unsupported_encoding',
  /** The body does not decompress with its Content-Encoding. */
  badCompression: 'bad_compression',
  /** The body stream ended early or broke (client gone, length lie). */
  bodyIncomplete: 'body_incomplete',
  /** The body is not UTF-8 (a leading UTF-8 BOM is allowed and dropped). */
  invalidUtf8: 'invalid_utf8',
  /** JSON nested deeper than LIMITS.jsonDepth, or a prop value that is an object or array. */
  nestingTooDeep: 'nesting_too_deep',
  malformedJson: 'malformed_json',
  /** The batch envelope (v, k, sa, c, e) has the wrong shape. */
  invalidBatch: 'invalid_batch',
  tooManyEvents: 'too_many_events',
  /** Every event of the batch was rejected. */
  invalidEvents: 'invalid_events',
  /** One event has the wrong shape (the fallback when no more specific code applies). */
  invalidEvent: 'invalid_event',
  tooManyProps: 'too_many_props',
  propKeyTooLong: 'prop_key_too_long',
  propValueTooLong: 'prop_value_too_long',
  /** A name, id, key, URL or other bounded string is longer than its field allows. */
  stringTooLong: 'string_too_long',
  /** Control characters where none belong (names, keys, ids, URLs), or NUL in a prop value. */
  invalidString: 'invalid_string',
  /** A client time outside 2000–2100, or an event too far before (or after) its batch's sent_at. */
  timestampOutOfRange: 'timestamp_out_of_range',
  invalidReceipt: 'invalid_receipt',
} as const
export type InputErrorCode = (typeof InputErrorCode)[keyof typeof InputErrorCode]

const CODES: ReadonlySet<string> = new Set(Object.values(InputErrorCode))

/** A zod error message that starts with its input error code, so ingest can name the limit that was hit. */
function coded(code: InputErrorCode, message: string): string {
  return `${code}: ${message}`
}

/** Splits a message made by `coded` into its code and text; other messages have no code. */
export function splitCodedMessage(message: string): { code: InputErrorCode | undefined; text: string } {
  const colon = message.indexOf(': ')
  const head = colon === -1 ? '' : message.slice(0, colon)
  return CODES.has(head) ? { code: head as InputErrorCode, text: message.slice(colon + 2) } : { code: undefined, text: message }
}

/** No C0/C1 control characters: names, keys, ids and URLs are shown and grouped on, and never need them. */
export const NO_CONTROLS = /^[^\p{Cc}]*$/u

/** What an SDK-minted id may hold; exported for ingest's compiled check of these schemas. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/

/** A bounded string that names or locates something: length and control characters are named errors. */
function label(max: number) {
  return z
    .string()
    .max(max, coded(InputErrorCode.stringTooLong, `at most ${max} characters`))
    .regex(NO_CONTROLS, coded(InputErrorCode.invalidString, 'control characters are not allowed'))
}

/** Client clocks: the same bounds as EpochMs (2000–2100), with a named error. */
const ClientTime = z
  .number()
  .int()
  .min(EpochMs.minValue ?? 0, coded(InputErrorCode.timestampOutOfRange, 'before 2000-01-01'))
  .max(EpochMs.maxValue ?? Number.MAX_SAFE_INTEGER, coded(InputErrorCode.timestampOutOfRange, 'after 2100-01-01'))

/** Identifiers the SDK mints: printable, short, no separators that could smuggle structure. */
const Id = z
  .string()
  .min(1)
  .max(LIMITS.idLength, coded(InputErrorCode.stringTooLong, `ids are at most ${LIMITS.idLength} characters`))
  .regex(ID_PATTERN, coded(InputErrorCode.invalidString, 'ids are [A-Za-z0-9_.:-]'))

const PropValue = z.union(
  [
    z
      .string()
      .max(LIMITS.propValueLength, coded(InputErrorCode.propValueTooLong, `prop values are at most ${LIMITS.propValueLength} characters`))
      // Free text may hold tabs and newlines, but NUL truncates strings in too many tools downstream.
      .refine((v) => !v.includes('\u0000'), coded(InputErrorCode.invalidString, 'NUL is not allowed in prop values')),
    z.number().finite(),
    z.boolean(),
    z.null(),
  ],
  {
    error: (issue) =>
      typeof issue.input === 'object' && issue.input !== null
        ? coded(InputErrorCode.nestingTooDeep, 'prop values are flat: string, number, boolean or null')
        : undefined,
  },
)

/**
 * Prop keys that name JavaScript's object machinery: `__proto__` as a key of a plain object sets its
 * prototype instead of a prop, `constructor` and `prototype` shadow what code reading props expects.
 * They are refused as any other invalid key is (`invalid_string`), never dropped silently; the SDK
 * cleans prop keys by this same rule before it queues an event.
 */
export const RESERVED_PROP_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype']
const RESERVED: ReadonlySet<string> = new Set(RESERVED_PROP_KEYS)
const RESERVED_MESSAGE = coded(InputErrorCode.invalidString, `prop keys may not be ${RESERVED_PROP_KEYS.join(', ')}`)

/** A prop key as the wire allows it; exported for the SDK's tests of its cleaning and for the fast check. */
export function isPropKey(key: string): boolean {
  return key.length >= 1 && key.length <= LIMITS.propKeyLength && NO_CONTROLS.test(key) && !RESERVED.has(key)
}

const PropRecord = z
  .record(
    z
      .string()
      .min(1)
      .max(LIMITS.propKeyLength, coded(InputErrorCode.propKeyTooLong, `prop keys are at most ${LIMITS.propKeyLength} characters`))
      .regex(NO_CONTROLS, coded(InputErrorCode.invalidString, 'control characters are not allowed in prop keys'))
      .refine((key) => !RESERVED.has(key), RESERVED_MESSAGE),
    PropValue,
  )
  .refine((p) => Object.keys(p).length <= LIMITS.propsKeys, { message: coded(InputErrorCode.tooManyProps, `at most ${LIMITS.propsKeys} props`) })

/**
 * Free-form event properties: flat, bounded, scalar values only. zod's record skips a `__proto__` key
 * before its key schema sees it (and drops it from its output), so that key is refused on the input first.
 */
export const WireProps = z.preprocess((input, ctx) => {
  if (typeof input === 'object' && input !== null && Object.hasOwn(input, '__proto__')) {
    ctx.addIssue({ code: 'custom', message: RESERVED_MESSAGE, input, path: ['__proto__'] })
  }
  return input
}, PropRecord)
export type WireProps = z.infer<typeof WireProps>

/**
 * One event as the SDK posts it. Keys are short because they ship in every request;
 * each `.describe()` is the documentation of the wire.
 */
export const WireEvent = z.strictObject({
  id: z.uuid().describe('event id (UUID), minted once and reused on retries so the server can deduplicate'),
  t: EventType.describe('event type: pageview, click, query, dashboard, feature or custom'),
  n: label(LIMITS.nameLength).min(1).optional().describe('event name (custom/feature/query/dashboard name, click label)'),
  ts: ClientTime.describe('client clock, epoch ms, when the event happened; corrected server-side by the sent_at offset'),
  a: Id.optional().describe('anon_id: random analytics identifier, present only while analytics is granted'),
  s: Id.optional().describe('session_id: random per browser session'),
  uid: label(LIMITS.userIdLength).min(1).optional().describe('user id from the host app; stored only as an HMAC pseudonym'),
  u: label(LIMITS.urlLength).optional().describe('page URL; host, path and utm_* tags are kept (a tag that looks personal is dropped), the rest of the query and the fragment are dropped'),
  r: label(LIMITS.urlLength).optional().describe('referrer URL; only its host is kept'),
  p: WireProps.optional().describe('properties: flat map of scalars'),
  sw: z.number().int().min(0).max(100_000).optional().describe('screen width, CSS px'),
  sh: z.number().int().min(0).max(100_000).optional().describe('screen height, CSS px'),
  l: label(35).optional().describe('locale, BCP 47 (navigator.language)'),
  tz: label(64).optional().describe('IANA time zone (Intl)'),
})
export type WireEvent = z.infer<typeof WireEvent>

/** Consent state the SDK held when it sent the batch; the server re-checks it and the request headers. */
export const WireConsent = z.strictObject({
  a: z.boolean().describe('analytics granted'),
  p: z.boolean().describe('preferences granted'),
  r: label(64).optional().describe('policy revision the choice was made under'),
  b: PrivacySignal.optional().describe('browser signal (dnt/gpc) that blocks analytics, as seen by the SDK'),
})
export type WireConsent = z.infer<typeof WireConsent>

const TOO_MANY_EVENTS = coded(InputErrorCode.tooManyEvents, `at most ${LIMITS.eventsPerBatch} events per batch`)

/** Body of POST /v1/batch (JSON, or text/plain from sendBeacon). */
export const WireBatch = z.strictObject({
  v: z.literal(1).describe('wire version'),
  k: label(128).min(1).describe('site write key (public, identifies org and site)'),
  sa: ClientTime.describe('sent_at: client clock, epoch ms, when this request was sent'),
  c: WireConsent.describe('consent state at send time'),
  e: z.array(WireEvent).min(1).max(LIMITS.eventsPerBatch, TOO_MANY_EVENTS).describe('events, oldest first'),
})
export type WireBatch = z.infer<typeof WireBatch>

/**
 * The batch with its events left unchecked, so ingest can validate each event on its own:
 * one bad event is rejected with its reason and the valid ones in the same batch still land.
 */
export const WireBatchShell = WireBatch.extend({
  e: z.array(z.unknown()).min(1).max(LIMITS.eventsPerBatch, TOO_MANY_EVENTS),
})
export type WireBatchShell = z.infer<typeof WireBatchShell>
