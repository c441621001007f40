import { BusMessage, ConsentSource, EpochMs, EventType, LIMITS } from '@atspark/schemas'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isBusMessage } from './bus-check.js'
import { decodeMessage, decodeMessageByZod } from './decode.js'

// Differential tests: the hand-written check and zod (the source of truth) accept and reject exactly the same
// bus messages, a message the check accepts is exactly zod's output, and decodeMessage answers as zod alone would
// (the same messages, the same DLQ reasons) on valid, mutated and hostile messages.

const MIN = EpochMs.minValue ?? 0
const MAX = EpochMs.maxValue ?? 0
const NOW = Date.UTC(2026, 10, 28, 12, 0, 1)

/** Strings near every edge the schemas draw: lengths around each limit, controls, NUL, lone surrogates, id characters. */
const edgyString = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{0,6}$/),
  fc.constantFrom(1, 34, 35, 36, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 2047, 2048, 2049).map((n) => 'x'.repeat(n)),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\t', 'a\nb', '\u001f', '\u007f', '\u0080', '\u009f', '\u00a0', '\ud800', 'x\udc00', '😀', 'a b', '__proto__', 'constructor', 'events', 'consent'),
)
const edgyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: MIN, max: MAX }),
  fc.constantFrom(MIN - 1, MIN, MAX, MAX + 1, MIN + 0.5, -1, 0, -0, 1, 1.5, 100_000, 100_001, 1e21, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, Number.MIN_SAFE_INTEGER - 1, -1e300),
)
/** Anything at all in place of a field: wrong types, nesting, null. */
const anyValue = fc.oneof(edgyString, edgyNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }))

const uuid = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '123e4567-e89b-02d3-a456-426614174000', '123e4567-e89b-12d3-c456-426614174000', '123e4567e89b12d3a456426614174000'),
)
const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,66}$/), edgyString)
const propKey = fc.oneof(fc.string({ minLength: 1, maxLength: 5 }), edgyString)
const propValue = fc.oneof(edgyString, edgyNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }))
const props = fc.oneof(
  fc.dictionary(propKey, propValue, { maxKeys: 4 }),
  fc.constantFrom(31, 32, 33).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  propValue,
)
const b64u = (n: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${n}}$`))
const validSealed = fc.tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), b64u(16), b64u(86), b64u(22)).map(([k, iv, ct, tag]) => `v1.${k}.${iv}.${ct}.${tag}`)
const sealed = fc.oneof(
  { weight: 3, arbitrary: validSealed },
  { weight: 1, arbitrary: validSealed.map((s) => `${s}x`) },
  { weight: 1, arbitrary: validSealed.map((s) => s.replace('v1.', 'v2.')) },
  { weight: 1, arbitrary: fc.constantFrom('', 'v1....', '203.0.113.7', `v1.${'k'.repeat(33)}.${'a'.repeat(16)}.${'b'.repeat(86)}.${'c'.repeat(22)}`, `v1.k.${'a'.repeat(16)}.${'b'.repeat(85)}=.${'c'.repeat(22)}`) },
)

/** Own keys, so `__proto__` can be a plain key, as JSON.parse makes it. */
function build(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  return out
}

const label = (max: number, min = 0) =>
  fc.oneof(
    fc.string({ minLength: min, maxLength: Math.min(max, 12) }),
    fc.constantFrom('é', '😀', 'a b', 'https://app.example.com/a?b=c#d').filter((v) => v.length <= max && v.length >= min),
    fc.constant('x'.repeat(max)),
  )
const validProps = fc.oneof(
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant('y'.repeat(512))), { maxKeys: 6 }),
  fc.constant(Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`.padEnd(64, 'k'), i]))),
)

/** A valid value for every key of an event (the optional ones are present or not). */
const validEvent = fc.record(
  {
    id: fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF')),
    t: fc.constantFrom(...EventType.options),
    ts: fc.oneof(fc.integer({ min: NOW - LIMITS.eventMaxAgeMs - 10, max: NOW + LIMITS.eventMaxLeadMs + 10 }), fc.constantFrom(MIN, MAX)),
    n: label(LIMITS.nameLength, 1),
    a: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
    s: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/),
    uid: label(LIMITS.userIdLength, 1),
    u: label(LIMITS.urlLength),
    r: label(LIMITS.urlLength),
    p: validProps,
    sw: fc.integer({ min: 0, max: 100_000 }),
    sh: fc.integer({ min: 0, max: 100_000 }),
    l: label(35),
    tz: label(64),
  },
  { requiredKeys: ['id', 't', 'ts'] },
)

const extraKey = fc.constantFrom('x', 'ip', 'org', '__proto__', 'constructor', 'toString', 'ID', 'k', '')
/** One change to a valid object: a key set to something else (or to an edge), or removed. */
const REMOVE = Symbol('remove')
const mutation = (keys: string[], values: fc.Arbitrary<unknown>) =>
  fc.tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: extraKey }),
    fc.oneof({ weight: 1, arbitrary: fc.constant<unknown>(REMOVE) }, { weight: 7, arbitrary: values }),
  )

function mutate(base: Record<string, unknown>, changes: readonly [string, unknown][]): Record<string, unknown> {
  const entries = new Map(Object.entries(base))
  for (const [key, value] of changes) {
    if (value === REMOVE) entries.delete(key)
    else entries.set(key, value)
  }
  return build([...entries])
}

/** Mostly unchanged (valid), else one or two changes. */
const mutated = (base: fc.Arbitrary<Record<string, unknown>>, keys: string[], values: fc.Arbitrary<unknown> = fc.oneof(anyValue, props, id, uuid)) =>
  fc.tuple(base, fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(mutation(keys, values), { minLength: 1, maxLength: 2 }) })).map(([b, changes]) => mutate(b, changes))

const EVENT_KEYS = ['id', 't', 'ts', 'n', 'a', 's', 'uid', 'u', 'r', 'p', 'sw', 'sh', 'l', 'tz']
const event = fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 9, arbitrary: mutated(validEvent, EVENT_KEYS) })
const events = fc.oneof(
  { weight: 4, arbitrary: fc.array(validEvent, { minLength: 1, maxLength: 4 }) },
  { weight: 4, arbitrary: fc.array(event, { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 99, 100, 101).map((n) => Array.from({ length: n }, () => ({ id: crypto.randomUUID(), t: 'click', ts: NOW }))) },
  { weight: 1, arbitrary: anyValue },
)

const ENVELOPE_KEYS = ['v', 'kind', 'org_id', 'site_id', 'received_at', 'sent_at', 'ip_sealed', 'ua', 'policy_revision', 'events']
const validEnvelope = fc.record(
  {
    v: fc.constant(1),
    kind: fc.constant('events'),
    org_id: fc.oneof(fc.constantFrom('bench', 'acme'), fc.string({ minLength: 1, maxLength: 8 })),
    site_id: fc.oneof(fc.constantFrom('web', 'app'), fc.string({ minLength: 1, maxLength: 8 })),
    received_at: fc.oneof(fc.constant(NOW), fc.integer({ min: MIN, max: MAX }), fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0, -0)),
    sent_at: fc.oneof(fc.constant(NOW - 250), fc.integer({ min: MIN, max: MAX }), fc.constantFrom(Number.MAX_SAFE_INTEGER, -1)),
    ip_sealed: validSealed,
    ua: fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', 'x'.repeat(512), '\u0000\t\n')),
    policy_revision: fc.oneof(fc.string({ maxLength: 10 }), fc.constant('r'.repeat(64))),
    events,
  },
  { requiredKeys: ['v', 'kind', 'org_id', 'site_id', 'received_at', 'sent_at', 'ip_sealed', 'ua', 'events'] },
)
const envelopeValue = fc.oneof(anyValue, sealed, events, fc.constantFrom('events', 'consent'), fc.constant('x'.repeat(513)), fc.constant('r'.repeat(65)))
const envelope = mutated(validEnvelope, ENVELOPE_KEYS, envelopeValue)

const RECEIPT_KEYS = ['v', 'id', 'ts', 'sa', 'a', 'p', 'src', 'r']
const validReceipt = fc.record({
  v: fc.constant(1),
  id: fc.oneof(fc.uuid(), fc.constant('00000000-0000-0000-0000-000000000000')),
  ts: fc.oneof(fc.constant(NOW - 1000), fc.integer({ min: MIN, max: MAX })),
  sa: fc.oneof(fc.constant(NOW - 500), fc.integer({ min: MIN, max: MAX })),
  a: fc.boolean(),
  p: fc.boolean(),
  src: fc.constantFrom(...ConsentSource.options),
  r: fc.oneof(fc.string({ maxLength: 10 }), fc.constant('r'.repeat(64)), fc.constantFrom('', '\u0000', '2026-01')),
})
const receipt = fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 9, arbitrary: mutated(validReceipt, [...RECEIPT_KEYS, 'k'], fc.oneof(anyValue, uuid, fc.constantFrom(...ConsentSource.options, 'r'.repeat(65), 'pk_site'))) })
const CONSENT_KEYS = ['v', 'kind', 'org_id', 'site_id', 'received_at', 'receipt']
const validConsentEnvelope = fc.record({
  v: fc.constant(1),
  kind: fc.constant('consent'),
  org_id: fc.oneof(fc.constant('bench'), fc.string({ minLength: 1, maxLength: 8 })),
  site_id: fc.oneof(fc.constant('web'), fc.string({ minLength: 1, maxLength: 8 })),
  received_at: fc.oneof(fc.constant(NOW), fc.integer({ min: MIN, max: MAX }), fc.constantFrom(Number.MAX_SAFE_INTEGER, -5)),
  receipt,
})
const consentEnvelope = mutated(validConsentEnvelope, CONSENT_KEYS, fc.oneof(anyValue, receipt, fc.constantFrom('events', 'consent')))

/** Valid, mutated and hostile messages of both kinds. */
const message = fc.oneof({ weight: 5, arbitrary: envelope }, { weight: 3, arbitrary: consentEnvelope }, { weight: 1, arbitrary: anyValue })

/** Every input goes through JSON text, as a bus message does. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null')

describe('hand-written bus check vs zod', () => {
  it('accepts exactly the messages BusMessage accepts unchanged, handing on the same value', { timeout: 120_000 }, () => {
    let accepted = 0
    fc.assert(
      fc.property(message.map(asJson), (raw) => {
        const zod = BusMessage.safeParse(raw)
        const fast = isBusMessage(raw)
        expect(fast).toBe(zod.success)
        if (fast) {
          accepted++
          expect(raw).toStrictEqual(zod.data)
        }
      }),
      { numRuns: 20_000 },
    )
    // The generators must reach both answers often, or the property proves little.
    expect(accepted).toBeGreaterThan(2_000)
    expect(accepted).toBeLessThan(18_000)
  })

  it('decodeMessage answers as zod alone: the same messages and the same DLQ reasons', { timeout: 120_000 }, () => {
    const bytes = fc.oneof(
      { weight: 9, arbitrary: message.map((m) => Buffer.from(JSON.stringify(m) ?? 'null', 'utf8')) },
      { weight: 1, arbitrary: fc.oneof(fc.constant(null), fc.constant(Buffer.alloc(0)), fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)), fc.string().map((s) => Buffer.from(s))) },
    )
    fc.assert(
      fc.property(bytes, (value) => {
        expect(decodeMessage(value)).toStrictEqual(decodeMessageByZod(value))
      }),
      { numRuns: 10_000 },
    )
  })

  it('agrees on the edges it was written for', () => {
    const event = { id: crypto.randomUUID(), t: 'pageview', ts: NOW }
    const sealedIp = `v1.k1.${'a'.repeat(16)}.${'b'.repeat(86)}.${'c'.repeat(22)}`
    const ok = { v: 1, kind: 'events', org_id: 'o', site_id: 's', received_at: NOW, sent_at: NOW, ip_sealed: sealedIp, ua: 'UA', events: [event] }
    const receipt = { v: 1, id: crypto.randomUUID(), ts: NOW, sa: NOW, a: true, p: false, src: 'banner', r: '2026-01' }
    const consent = { v: 1, kind: 'consent', org_id: 'o', site_id: 's', received_at: NOW, receipt }
    const cases: unknown[] = [
      ok,
      { ...ok, policy_revision: '' },
      { ...ok, policy_revision: undefined },
      { ...ok, events: [{ ...event, n: undefined }] },
      { ...ok, received_at: Number.MAX_SAFE_INTEGER + 1 },
      { ...ok, received_at: -0 },
      { ...ok, sent_at: 1.5 },
      { ...ok, org_id: '' },
      { ...ok, ua: 'x'.repeat(513) },
      { ...ok, ip: '203.0.113.7' },
      { ...ok, events: [] },
      { ...ok, events: [{ ...event, p: JSON.parse('{"__proto__":"x","k":1}') }] },
      JSON.parse(JSON.stringify(ok).replace('{', '{"__proto__":1,')),
      { ...ok, kind: 'consent' },
      consent,
      { ...consent, kind: 'events' },
      { ...consent, receipt: { ...receipt, k: 'pk_site' } },
      { ...consent, receipt: { ...receipt, r: '\u0000' } },
      { ...consent, receipt: { ...receipt, ts: MIN - 1 } },
      { ...consent, policy_revision: 'r' },
      [ok],
      null,
    ]
    for (const raw of cases) expect([raw, isBusMessage(raw)]).toEqual([raw, BusMessage.safeParse(raw).success])
    expect(isBusMessage(ok)).toBe(true)
    expect(isBusMessage(consent)).toBe(true)
  })
})
