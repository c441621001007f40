import { describe, expect, it } from 'vitest'
import { LIMITS } from './constants.js'
import { messageKey } from './envelope.js'
import { toWarehouseTime } from './row.js'
import { isPropKey, RESERVED_PROP_KEYS, WireBatch, WireBatchShell, WireEvent, WireProps } from './wire.js'

const event = {
  id: '0b5d7c1e-8f0a-4c4e-9d7e-2f1a3b4c5d6e',
  t: 'pageview',
  ts: 1_764_345_600_000,
  a: 'a_123',
  s: 's_456',
  u: 'https://app.example.com/x',
  p: { plan: 'pro', seats: 3, beta: true, none: null },
  sw: 1440,
  sh: 900,
  l: 'de-DE',
  tz: 'Europe/Berlin',
}
const batch = { v: 1, k: 'pk_demo', sa: 1_764_345_601_000, c: { a: true, p: false, r: '2' }, e: [event] }

describe('WireBatch', () => {
  it('accepts a well-formed batch', () => {
    expect(WireBatch.parse(batch)).toEqual(batch)
  })

  it.each([
    ['an unknown version', { ...batch, v: 2 }],
    ['no events', { ...batch, e: [] }],
    ['too many events', { ...batch, e: Array.from({ length: LIMITS.eventsPerBatch + 1 }, () => event) }],
    ['a string clock', { ...batch, sa: '2026-11-28' }],
    ['a clock before 2000', { ...batch, sa: 5 }],
    ['consent without the analytics flag', { ...batch, c: { p: true } }],
    ['an unknown top-level key', { ...batch, org_id: 'someone-else' }],
  ])('rejects %s', (_name, bad) => {
    expect(WireBatch.safeParse(bad).success).toBe(false)
  })

  it('lets the shell pass bad events through for per-event checks', () => {
    const shell = WireBatchShell.parse({ ...batch, e: [{ nope: 1 }, event] })
    expect(shell.e).toHaveLength(2)
  })
})

describe('WireEvent', () => {
  it.each([
    ['a non-uuid id', { ...event, id: '42' }],
    ['an unknown type', { ...event, t: 'keystroke' }],
    ['nested props', { ...event, p: { a: { b: 1 } } }],
    ['too many props', { ...event, p: Object.fromEntries(Array.from({ length: LIMITS.propsKeys + 1 }, (_, i) => [`k${i}`, i])) }],
    ['an overlong prop value', { ...event, p: { k: 'x'.repeat(LIMITS.propValueLength + 1) } }],
    ['ids with spaces', { ...event, a: 'a b' }],
    ['a fractional screen size', { ...event, sw: 10.5 }],
  ])('rejects %s', (_name, bad) => {
    expect(WireEvent.safeParse(bad).success).toBe(false)
  })
})

describe('WireProps', () => {
  it.each(RESERVED_PROP_KEYS.map((key) => [key]))('refuses %s as a key with invalid_string, whatever its value, never a silent {}', (key) => {
    for (const value of ['"x"', '1', 'null', '{"a":1}']) {
      const parsed = WireProps.safeParse(JSON.parse(`{"${key}":${value},"plan":"pro"}`))
      expect(parsed.success).toBe(false)
      const messages = parsed.error?.issues.flatMap((i) => [i.message, ...('issues' in i ? i.issues.map((n) => n.message) : [])])
      expect(messages).toContain('invalid_string: prop keys may not be __proto__, constructor, prototype')
      expect(isPropKey(key)).toBe(false)
    }
  })

  it('keeps keys that only resemble them', () => {
    const props = { Constructor: 1, __proto_: 2, toString: 3, prototypes: 4, hasOwnProperty: 5 }
    expect(WireProps.parse(props)).toEqual(props)
    for (const key of Object.keys(props)) expect(isPropKey(key)).toBe(true)
  })
})

describe('helpers', () => {
  it('keys envelopes by visitor so their events share a partition', () => {
    const env = { v: 1 as const, kind: 'events' as const, org_id: 'o', site_id: 's', received_at: 1, sent_at: 1, ip_sealed: '', ua: '', events: [WireEvent.parse(event)] }
    expect(messageKey(env)).toBe('a_123')
    expect(messageKey({ ...env, events: [WireEvent.parse({ ...event, a: undefined })] })).toBe('s_456')
  })

  it('formats warehouse times in UTC with milliseconds', () => {
    expect(toWarehouseTime(Date.UTC(2026, 0, 2, 3, 4, 5, 6))).toBe('2026-01-02 03:04:05.006')
  })
})
