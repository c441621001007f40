import { EpochMs, EventType, LIMITS, RESERVED_PROP_KEYS, WireBatchShell, WireEvent } from '@atspark/schemas'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type ParsedBatch, parseBatch, parseBatchByZod } from './body.js'
import { isBatchShell, isWireEvent } from './wire-check.js'

// Differential tests: the compiled check and zod (the source of truth) accept and reject exactly the same
// inputs, and parseBatch answers exactly as zod alone would (events kept, per-event codes and reasons, 400s).

const MIN = EpochMs.minValue ?? 0
const MAX = EpochMs.maxValue ?? 0
const SA = Date.UTC(2026, 10, 28, 12, 0, 1)

/** Strings near every edge the schemas draw: lengths around each limit, controls, NUL, lone surrogates, id characters. */
const edgyString = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{0,6}$/),
  fc.constantFrom(1, 34, 35, 36, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 2047, 2048, 2049).map((n) => 'x'.repeat(n)),
  fc.constantFrom('', '\u0000', 'a\u0000b', '\t', 'a\nb', '\u001f', '\u007f', '\u0080', '\u009f', '\u00a0', '\ud800', 'x\udc00', '😀', 'a b', 'a/b', '__proto__', 'constructor', 'prototype', 'toString', 'Constructor', ' __proto__'),
)
const edgyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: MIN, max: MAX }),
  fc.constantFrom(MIN - 1, MIN, MAX, MAX + 1, MIN + 0.5, -1, 0, 1.5, 100_000, 100_001, 1e21, Number.MAX_SAFE_INTEGER + 2),
)
/** Anything at all in place of a field: wrong types, nesting, null. */
const anyValue = fc.oneof(edgyString, edgyNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 3 }))

const uuid = fc.oneof(
  fc.uuid(),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '123e4567-e89b-02d3-a456-426614174000', '123e4567-e89b-12d3-c456-426614174000', '123e4567e89b12d3a456426614174000'),
)
const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,66}$/), edgyString)
/** The reserved keys (RESERVED_PROP_KEYS) often: zod's record skips `__proto__` unless told, so that edge needs weight. */
const propKey = fc.oneof(fc.string({ minLength: 1, maxLength: 5 }), edgyString, fc.constantFrom(...RESERVED_PROP_KEYS))
const propValue = fc.oneof(edgyString, edgyNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }))
const props = fc.oneof(
  fc.dictionary(propKey, propValue, { maxKeys: 4 }),
  // Own keys, so a `__proto__` key reaches JSON text as a key, as a hostile body writes it.
  fc.array(fc.tuple(propKey, propValue), { maxLength: 4 }).map((entries) => build(entries)),
  fc.constantFrom(31, 32, 33).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  propValue,
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
    ts: fc.integer({ min: SA - LIMITS.eventMaxAgeMs - 10, max: SA + LIMITS.eventMaxLeadMs + 10 }),
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

const EVENT_KEYS = ['id', 't', 'ts', 'n', 'a', 's', 'uid', 'u', 'r', 'p', 'sw', 'sh', 'l', 'tz']
const extraKey = fc.constantFrom('x', 'org_id', '__proto__', 'constructor', 'toString', 'ID', '')
/** One change to a valid object: a key set to something else (or to an edge), or removed. */
const REMOVE = Symbol('remove')
const mutation = (keys: string[]) =>
  fc.tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: extraKey }),
    fc.oneof({ weight: 1, arbitrary: fc.constant<unknown>(REMOVE) }, { weight: 7, arbitrary: fc.oneof(anyValue, props, id, uuid) }),
  )

function mutate(base: Record<string, unknown>, changes: [string, unknown][]): Record<string, unknown> {
  const entries = new Map(Object.entries(base))
  for (const [key, value] of changes) {
    if (value === REMOVE) entries.delete(key)
    else entries.set(key, value)
  }
  return build([...entries])
}

const mutated = (base: fc.Arbitrary<Record<string, unknown>>, keys: string[]) =>
  fc.tuple(base, fc.array(mutation(keys), { minLength: 0, maxLength: 2 })).map(([b, changes]) => mutate(b, changes))

const event = fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 9, arbitrary: mutated(validEvent, EVENT_KEYS) })

const validConsent = fc.record({ a: fc.boolean(), p: fc.boolean(), r: label(64), b: fc.constantFrom('dnt', 'gpc') }, { requiredKeys: ['a', 'p'] })
const consent = fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 6, arbitrary: mutated(validConsent, ['a', 'p', 'r', 'b']) })

const events = fc.oneof(
  { weight: 8, arbitrary: fc.array(event, { minLength: 1, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 99, 100, 101).map((n) => Array.from({ length: n }, () => ({ id: crypto.randomUUID(), t: 'click', ts: SA }))) },
  { weight: 1, arbitrary: anyValue },
)

const validShell = fc.record({ v: fc.constant(1), k: label(128, 1), sa: fc.oneof(fc.constant(SA), fc.integer({ min: MIN, max: MAX })), c: consent, e: events })
const batch = fc.oneof({ weight: 1, arbitrary: anyValue }, { weight: 9, arbitrary: mutated(validShell, ['v', 'k', 'sa', 'c', 'e']) })

/** Every input goes through JSON text, as a body does. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null')

/** The answer of a parse, thrown or returned, in comparable form. */
function outcome(parse: (json: unknown) => unknown, json: unknown): unknown {
  try {
    return { ok: parse(json) }
  } catch (err) {
    return { error: (err as { code?: string }).code, message: (err as Error).message }
  }
}

describe('compiled wire check vs zod', () => {
  it('accepts exactly the events WireEvent accepts unchanged, handing on the same value', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(event.map(asJson), (raw) => {
        const zod = WireEvent.safeParse(raw)
        expect(isWireEvent(raw)).toBe(zod.success)
        if (isWireEvent(raw)) expect(raw).toStrictEqual(zod.data)
      }),
      { numRuns: 10_000 },
    )
  })

  it('accepts exactly the batch envelopes WireBatchShell accepts', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(batch.map(asJson), (raw) => {
        const zod = WireBatchShell.safeParse(raw)
        expect(isBatchShell(raw)).toBe(zod.success)
        if (zod.success) expect(raw).toStrictEqual(zod.data)
      }),
      { numRuns: 5_000 },
    )
  })

  it('parseBatch answers as zod alone: the same events, per-event codes and reasons, and the same 400s', { timeout: 60_000 }, () => {
    fc.assert(
      fc.property(batch.map(asJson), (raw) => {
        const fast = outcome(parseBatch, raw) as { ok?: ParsedBatch }
        const zod = outcome(parseBatchByZod, raw) as { ok?: ParsedBatch }
        // `verbatim` says how the fast path got there (zod never vouches for it); the rest must be identical.
        if (fast.ok?.verbatim) expect(fast.ok.events).toStrictEqual((raw as { e: unknown }).e)
        if (fast.ok) fast.ok.verbatim = false
        expect(fast).toStrictEqual(zod)
      }),
      { numRuns: 5_000 },
    )
  })

  it('agrees on the edges it was written for', () => {
    const ok = { id: crypto.randomUUID(), t: 'pageview', ts: SA }
    const cases: unknown[] = [
      ok,
      { ...ok, p: JSON.parse('{"__proto__":"x","k":1}') },
      { ...ok, p: JSON.parse('{"__proto__":{"nested":1}}') },
      { ...ok, p: { constructor: 'x', k: 1 } },
      { ...ok, p: { prototype: 1 } },
      { ...ok, p: { toString: 'x', Constructor: 1, __proto_: 2 } },
      { ...ok, p: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i])) },
      { ...ok, p: { k: { nested: 1 } } },
      { ...ok, a: 'x'.repeat(64) },
      { ...ok, a: 'x'.repeat(65) },
      { ...ok, n: '' },
      { ...ok, u: '' },
      { ...ok, ts: MIN - 1 },
      { ...ok, sw: -0 },
      JSON.parse(`{"id":"${ok.id}","t":"click","ts":${SA},"__proto__":1}`),
    ]
    for (const raw of cases) expect([raw, isWireEvent(raw)]).toEqual([raw, WireEvent.safeParse(raw).success])
    expect(Object.hasOwn((cases[1] as { p: object }).p, '__proto__')).toBe(true)
  })

  it('refuses the reserved prop keys as any other invalid key: the event rejected with its code, its neighbours kept', () => {
    const ok = () => ({ id: crypto.randomUUID(), t: 'pageview', ts: SA })
    for (const key of RESERVED_PROP_KEYS) {
      for (const value of ['"x"', '1', 'null', '{"a":1}']) {
        const bad = { ...ok(), p: JSON.parse(`{"k":1,"${key}":${value}}`) }
        const body = { v: 1, k: 'pk', sa: SA, c: { a: true, p: false }, e: [ok(), bad, ok()] }
        for (const parse of [parseBatch, parseBatchByZod]) {
          const parsed = parse(asJson(body))
          expect(parsed.events.map((e) => e.id), key).toEqual([body.e[0]!.id, body.e[2]!.id])
          expect(parsed.rejected).toEqual([{ index: 1, code: 'invalid_string', reason: expect.stringContaining(`p.${key}: prop keys may not be __proto__, constructor, prototype`) }])
        }
      }
    }
  })
})
