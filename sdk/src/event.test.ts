import { LIMITS, RESERVED_PROP_KEYS, WireEvent, WireProps } from '@atspark/schemas'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { clean, cleanProps, createEvent, pageUrl, stripUrl } from './event.js'
import { setUrl } from './test-support.js'

describe('stripUrl', () => {
  test('drops query and fragment, keeps scheme, host and path', () => {
    expect(stripUrl('https://a.example/x/y?token=secret#frag')).toBe('https://a.example/x/y')
    expect(stripUrl('https://a.example/#/route?x')).toBe('https://a.example/')
    expect(stripUrl(`https://a.example/${'p'.repeat(5000)}`)).toHaveLength(2048)
  })
})

describe('pageUrl', () => {
  test('keeps only the utm_* tags of the query, in order, and never the fragment', () => {
    expect(pageUrl('https://a.example/p?utm_source=news&token=secret&utm_campaign=spring#utm_term=x')).toBe('https://a.example/p?utm_source=news&utm_campaign=spring')
    expect(pageUrl('https://a.example/p?email=a%40b.c&xutm_source=1')).toBe('https://a.example/p')
    expect(pageUrl('https://a.example/#/route?utm_source=x')).toBe('https://a.example/')
    expect(pageUrl('https://a.example/p')).toBe('https://a.example/p')
  })

  test('never longer than the wire allows', () => {
    expect(pageUrl(`https://a.example/p?utm_content=${'x'.repeat(5000)}`)).toHaveLength(2048)
    expect(pageUrl(`https://a.example/${'p'.repeat(5000)}?utm_source=x`)).toHaveLength(2048)
  })
})

describe('cleanProps', () => {
  test('keeps flat scalars within the wire bounds and drops the rest', () => {
    const long = 'x'.repeat(600)
    expect(
      cleanProps({ s: 'v', n: 1.5, b: false, z: null, long, nested: { a: 1 }, list: [1], f: () => 1, u: undefined, sym: Symbol('x'), big: 1n, ['k'.repeat(65)]: 1, ['k'.repeat(64)]: 2 }),
    ).toEqual({ s: 'v', n: 1.5, b: false, z: null, long: long.slice(0, 512), ['k'.repeat(64)]: 2 })
  })

  test('drops keys the edge refuses (control characters, __proto__, constructor, prototype) and removes NUL from values', () => {
    const props = JSON.parse('{"__proto__":null,"ok":"a\\u0000b\\tc","bad\\nkey":1,"constructor":1,"prototype":2,"tab\\tkey":3,"é😀":"\\u0085"}')
    const kept = cleanProps(props)!
    expect(Object.keys(kept)).toEqual(['ok', 'é😀'])
    expect(JSON.parse(JSON.stringify(kept))).toEqual({ ok: 'ab\tc', 'é😀': '\u0085' })
  })

  test('NaN and Infinity serialise as null, which the wire accepts', () => {
    expect(JSON.parse(JSON.stringify(cleanProps({ nan: Number.NaN, inf: Infinity })))).toEqual({ nan: null, inf: null })
  })

  test('keeps at most 32 props and returns undefined when none survive', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]))
    expect(Object.keys(cleanProps(many)!)).toHaveLength(32)
    expect(cleanProps({ x: {} })).toBeUndefined()
    expect(cleanProps()).toBeUndefined()
  })
})

describe('createEvent', () => {
  test('stamps id, type, time and the page URL without query, and nothing else (device fields and ids come per batch)', () => {
    setUrl('https://app.example/path?q=1#h')
    const event = createEvent('custom', { n: 'signup' }, { plan: 'pro' })
    expect(event).toMatchObject({ t: 'custom', n: 'signup', p: { plan: 'pro' }, u: 'https://app.example/path' })
    expect(Object.keys(event).sort()).toEqual(['id', 'n', 'p', 't', 'ts', 'u'])
  })
})

/*
 * The SDK's cleaning is a copy of the edge's rules (schemas' wire.ts), because the bundle may not import schemas.
 * Differential tests prove the copy equal to them: whatever the SDK keeps, the edge accepts, and whatever the edge
 * accepts, the SDK keeps as it is. fast-check prints the seed and the shrunk input of any failure.
 */
describe('cleaning equals the edge\'s rules', () => {
  /** Strings near every edge the wire draws: each control class, NUL, lone surrogates, lengths around each limit. */
  const controls = fc.constantFrom('\u0000', '\t', '\n', '\r', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f')
  const text = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.array(fc.oneof(fc.string({ maxLength: 3 }), controls, fc.constantFrom('\u00a0', '\ud800', '\udc00', '😀', 'é', ' ')), { maxLength: 8 }).map((parts) => parts.join('')),
    fc
      .tuple(fc.constantFrom(63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513), fc.option(controls), fc.nat(600))
      .map(([n, control, at]) => {
        const long = 'x'.repeat(n)
        return control ? long.slice(0, at) + control + long.slice(at) : long
      }),
    fc.constantFrom('', ...RESERVED_PROP_KEYS, 'toString', 'Constructor', ' prototype'),
  )
  /** Own keys, as JSON.parse makes them: `__proto__` included. */
  const record = (entries: [string, unknown][]) => {
    const out: Record<string, unknown> = {}
    for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
    return out
  }
  const value = fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.jsonValue({ maxDepth: 1 }))
  const props = fc.oneof(
    fc.array(fc.tuple(text, value), { maxLength: 6 }).map(record),
    fc.constantFrom(31, 32, 33, 40).map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]))),
  )
  const accepts = (schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) => schema.safeParse(v).success
  const wire = (v: unknown) => JSON.parse(JSON.stringify(v ?? {}))

  test.each([
    ['n', LIMITS.nameLength],
    ['uid', LIMITS.userIdLength],
  ] as const)('%s: the edge accepts a string exactly when cleaning leaves it as it is; a cleaned one it always accepts', (field, max) => {
    const schema = WireEvent.shape[field]
    fc.assert(
      fc.property(text, (s) => {
        const cleaned = clean(s, max)
        expect(accepts(schema, s)).toBe(s !== '' && cleaned === s)
        expect(accepts(schema, cleaned)).toBe(cleaned !== '')
      }),
      { numRuns: 3_000 },
    )
  }, 60_000)

  test('props: what cleanProps keeps the edge accepts; props the edge accepts are kept exactly as the edge reads them', () => {
    fc.assert(
      fc.property(props, (p) => {
        const kept = wire(cleanProps(p))
        expect(accepts(WireProps, kept)).toBe(true)
        const edge = WireProps.safeParse(p)
        if (edge.success) expect(kept).toEqual(wire(edge.data))
        // A key is kept exactly when the edge would accept it alone.
        for (const key of Object.keys(p)) {
          if (typeof p[key] === 'number' && Object.keys(p).length <= LIMITS.propsKeys) {
            expect(Object.keys(kept).includes(key), JSON.stringify(key)).toBe(accepts(WireProps, record([[key, 1]])))
          }
        }
      }),
      { numRuns: 2_000 },
    )
  }, 60_000)

  test('a whole event built from any name and props is accepted by the edge (valid names pass through unchanged)', () => {
    fc.assert(
      fc.property(text, props, (name, p) => {
        const n = clean(name, LIMITS.nameLength)
        const event = wire(createEvent('custom', { n: n || undefined }, p))
        expect(WireEvent.safeParse(event).success).toBe(true)
      }),
      { numRuns: 1_000 },
    )
  }, 60_000)
})
