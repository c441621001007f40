import { WireEvent } from '@atspark/schemas'
import fc from 'fast-check'
import { describe, expect, test, vi } from 'vitest'
import { anonId, drop, dropIds, sessionId, store, storedJson, uuid } from './ids.js'
import './test-support.js'

describe('uuid', () => {
  test('valid, distinct v4 UUIDs from getRandomValues (randomUUID is missing outside secure contexts)', () => {
    const original = crypto.randomUUID
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true })
    try {
      const ids = Array.from({ length: 200 }, uuid)
      for (const id of ids) {
        expect(WireEvent.shape.id.safeParse(id).success, id).toBe(true)
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      }
      expect(new Set(ids).size).toBe(ids.length)
    } finally {
      Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true })
    }
  })
})

describe('uuid cost', () => {
  test('randomUUID where present; else one getRandomValues call per uuid (32 one-byte calls cost ~130 µs in Chromium)', () => {
    const random = vi.spyOn(crypto, 'getRandomValues')
    const randomUUID = vi.spyOn(crypto, 'randomUUID')
    expect(uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect([randomUUID.mock.calls.length, random.mock.calls.length]).toEqual([1, 0])
    vi.restoreAllMocks()
    const original = crypto.randomUUID
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true })
    try {
      const spy = vi.spyOn(crypto, 'getRandomValues')
      const ids = Array.from({ length: 50 }, () => uuid())
      expect(spy).toHaveBeenCalledTimes(50)
      expect(new Set(ids).size).toBe(50)
    } finally {
      Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true })
    }
  })
})

describe('anon and session ids', () => {
  test('anon id lives in localStorage atspark_anon, session id in sessionStorage atspark_session', () => {
    const a = anonId()
    const s = sessionId()
    expect(localStorage.getItem('atspark_anon')).toBe(a)
    expect(sessionStorage.getItem('atspark_session')).toBe(s)
    expect(localStorage.getItem('atspark_session')).toBeNull()
    expect(anonId()).toBe(a)
    expect(sessionId()).toBe(s)
    expect(a).not.toBe(s)
  })

  test('dropIds deletes anon, session and user ids and the offline queue, and nothing else', () => {
    anonId()
    sessionId()
    localStorage.setItem('atspark_uid', 'u')
    localStorage.setItem('atspark_q', '[]')
    localStorage.setItem('atspark_prefs', '{}')
    dropIds()
    expect(Object.keys(localStorage)).toEqual(['atspark_prefs'])
    expect(sessionStorage.getItem('atspark_session')).toBeNull()
  })

  test('a tampered stored value that the wire would reject is replaced', () => {
    localStorage.setItem('atspark_anon', 'not valid <script>')
    const a = anonId()
    expect(WireEvent.shape.id.safeParse(a).success).toBe(true)
    expect(localStorage.getItem('atspark_anon')).toBe(a)
  })

  test('a stored anon or session id is kept exactly when the edge accepts it as an id; anything else is replaced by one it accepts', () => {
    const stored = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_.:-]{0,66}$/),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/).map((id) => `${id}\n`),
      fc.constantFrom('', ' ', 'a b', 'é', '😀', 'x'.repeat(64), 'x'.repeat(65), 'id\u0000', 'id\u0085'),
    )
    const accepts = (id: string) => WireEvent.shape.a.safeParse(id).success && WireEvent.shape.s.safeParse(id).success
    fc.assert(
      fc.property(stored, (value) => {
        localStorage.setItem('atspark_anon', value)
        sessionStorage.setItem('atspark_session', value)
        const [a, s] = [anonId(), sessionId()]
        expect([a === value, s === value]).toEqual([accepts(value), accepts(value)])
        expect([accepts(a), accepts(s)]).toEqual([true, true])
        expect([localStorage.getItem('atspark_anon'), sessionStorage.getItem('atspark_session')]).toEqual([a, s])
      }),
      { numRuns: 3_000 },
    )
  }, 60_000)

  test('blocked storage keeps values in memory for the page, and drop forgets them', () => {
    // As in a sandboxed frame or with site data blocked: reading window.localStorage itself throws.
    for (const area of ['localStorage', 'sessionStorage'] as const) {
      vi.spyOn(window, area, 'get').mockImplementation(() => {
        throw new DOMException('denied', 'SecurityError')
      })
    }
    const a = anonId()
    expect(anonId()).toBe(a)
    expect(store('atspark_prefs', '{"x":1}')).toBe('{"x":1}')
    expect(storedJson('atspark_prefs')).toEqual({ x: 1 })
    dropIds()
    drop('atspark_prefs')
    expect(anonId()).not.toBe(a)
    expect(storedJson('atspark_prefs')).toBeUndefined()
  })

  test('storedJson: nothing when absent or unparsable', () => {
    expect(storedJson('atspark_q')).toBeNull()
    localStorage.setItem('atspark_q', '{bad')
    expect(storedJson('atspark_q')).toBeUndefined()
    localStorage.setItem('atspark_q', '[1]')
    expect(storedJson('atspark_q')).toEqual([1])
  })
})
