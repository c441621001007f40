import { WireEvent } from '@atspark/schemas'
import { describe, expect, test, vi } from 'vitest'
import { anonId, dropIds, sessionId, uuid } from './ids.js'
import './test-support.js'

const isUuid = (value: string) => WireEvent.shape.id.safeParse(value).success

describe('uuid', () => {
  test('uses crypto.randomUUID when present', () => {
    const spy = vi.spyOn(crypto, 'randomUUID')
    expect(isUuid(uuid())).toBe(true)
    expect(spy).toHaveBeenCalled()
  })

  test('falls back to getRandomValues outside secure contexts, still a valid v4 UUID', () => {
    const original = crypto.randomUUID
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true })
    try {
      const ids = Array.from({ length: 200 }, uuid)
      for (const id of ids) {
        expect(isUuid(id), id).toBe(true)
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      }
      expect(new Set(ids).size).toBe(ids.length)
    } finally {
      Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true })
    }
  })
})

describe('anon and session ids', () => {
  test('anon id lives in localStorage atspark_anon, session id in sessionStorage', () => {
    const a = anonId()
    const s = sessionId()
    expect(localStorage.getItem('atspark_anon')).toBe(a)
    expect(sessionStorage.getItem('atspark_session')).toBe(s)
    expect(anonId()).toBe(a)
    expect(sessionId()).toBe(s)
    expect(a).not.toBe(s)
  })

  test('dropIds deletes both', () => {
    anonId()
    sessionId()
    dropIds()
    expect(localStorage.getItem('atspark_anon')).toBeNull()
    expect(sessionStorage.getItem('atspark_session')).toBeNull()
  })

  test('a tampered stored value that the wire would reject is replaced', () => {
    localStorage.setItem('atspark_anon', 'not valid <script>')
    const a = anonId()
    expect(isUuid(a)).toBe(true)
    expect(localStorage.getItem('atspark_anon')).toBe(a)
  })

  test('blocked storage keeps the id in memory for the page, and dropIds forgets it', () => {
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError')
    })
    const a = anonId()
    expect(anonId()).toBe(a)
    dropIds()
    expect(anonId()).not.toBe(a)
  })
})
