import { describe, expect, test } from 'vitest'
import { cleanProps, createEvent, stripUrl } from './event.js'
import { setUrl } from './test-support.js'

describe('stripUrl', () => {
  test('drops query and fragment, keeps scheme, host and path', () => {
    expect(stripUrl('https://a.example/x/y?token=secret#frag')).toBe('https://a.example/x/y')
    expect(stripUrl('https://a.example/#/route?x')).toBe('https://a.example/')
    expect(stripUrl(`https://a.example/${'p'.repeat(5000)}`)).toHaveLength(2048)
  })
})

describe('cleanProps', () => {
  test('keeps flat scalars within the wire bounds and drops the rest', () => {
    const long = 'x'.repeat(600)
    expect(
      cleanProps({ s: 'v', n: 1.5, b: false, z: null, long, nested: { a: 1 }, list: [1], f: () => 1, u: undefined, sym: Symbol('x'), big: 1n, ['k'.repeat(65)]: 1, ['k'.repeat(64)]: 2 }),
    ).toEqual({ s: 'v', n: 1.5, b: false, z: null, long: long.slice(0, 512), ['k'.repeat(64)]: 2 })
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
