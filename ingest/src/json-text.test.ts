import { LIMITS } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { assertJsonDepth, decodeUtf8, parseJson, wellFormed } from './json-text.js'

const bytes = (...b: number[]) => new Uint8Array(b)

describe('decodeUtf8', () => {
  it('decodes UTF-8 and drops one leading BOM', () => {
    expect(decodeUtf8(new TextEncoder().encode('{"a":"ü"}'))).toBe('{"a":"ü"}')
    expect(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d))).toBe('{}')
  })

  it.each([
    ['a lone continuation byte', bytes(0x7b, 0x80, 0x7d)],
    ['an overlong encoding', bytes(0xc0, 0xaf)],
    ['an encoded surrogate', bytes(0xed, 0xa0, 0x80)],
    ['a truncated sequence', bytes(0x22, 0xe2, 0x82)],
    ['a UTF-16 BOM', bytes(0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00)],
  ])('refuses %s with 400 invalid_utf8', (_name, input) => {
    expect(() => decodeUtf8(input)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_utf8' }))
  })
})

describe('assertJsonDepth', () => {
  it('allows the depth a batch needs and refuses deeper nesting with nesting_too_deep', () => {
    expect(() => assertJsonDepth('{"e":[{"p":{"k":1}}]}')).not.toThrow()
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)
    expect(() => assertJsonDepth(deep(LIMITS.jsonDepth))).not.toThrow()
    expect(() => assertJsonDepth(deep(LIMITS.jsonDepth + 1))).toThrow(expect.objectContaining({ code: 'nesting_too_deep' }))
    expect(() => assertJsonDepth(deep(100_000))).toThrow(expect.objectContaining({ code: 'nesting_too_deep' }))
  })

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(() => assertJsonDepth(`{"a":"${'['.repeat(50)}\\"${'{'.repeat(50)}"}`)).not.toThrow()
  })
})

describe('parseJson', () => {
  it('names malformed JSON', () => {
    expect(() => parseJson('{"v":1,')).toThrow(expect.objectContaining({ status: 400, code: 'malformed_json' }))
  })
})

describe('wellFormed', () => {
  it('replaces lone surrogates in values and keys, keeping pairs', () => {
    const value = parseJson('{"a\\ud800":["x\\udc00y","😀\\ud83d"],"ok":"\\ud83d\\ude00"}')
    expect(wellFormed(value)).toEqual({ 'a\uFFFD': ['x\uFFFDy', '😀\uFFFD'], ok: '😀' })
  })

  it('keeps a key named __proto__ an own property and leaves the prototype alone', () => {
    const value = wellFormed(parseJson('{"__proto__":"\\ud800","x":1}')) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toBe('\uFFFD')
  })
})
