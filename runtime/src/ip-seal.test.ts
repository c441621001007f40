import { randomBytes } from 'node:crypto'
import { SealedIp } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { type IpKeyring, IpSealError, openIp, sealedIpKeyId, sealIp } from './ip-seal.js'

const A = randomBytes(32)
const B = randomBytes(32)
const ring = (active: string, keys: Record<string, Buffer>): IpKeyring => ({ active, keys: new Map(Object.entries(keys)) })
const TENANT = { orgId: 'acme', siteId: 'web' }

function failure(fn: () => unknown): IpSealError {
  try {
    fn()
  } catch (err) {
    if (err instanceof IpSealError) return err
    throw err
  }
  throw new Error('expected an IpSealError')
}

/** Flips one bit in the middle of a base64url part, which always changes the decoded bytes. */
function tamper(sealed: string, part: 2 | 3 | 4): string {
  const parts = sealed.split('.')
  const s = parts[part]!
  const i = Math.floor(s.length / 2)
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  parts[part] = s.slice(0, i) + alphabet[alphabet.indexOf(s[i]!) ^ 1] + s.slice(i + 1)
  return parts.join('.')
}

describe('sealIp / openIp', () => {
  it.each([
    ['IPv4', '8.8.8.8'],
    ['IPv6', '2001:4860:4860::8888'],
    ['IPv4-mapped IPv6', '::ffff:81.2.69.142'],
    ['IPv6 with a zone id', 'fe80::1%eth0'],
    ['an unknown address', ''],
  ])('round-trips %s, with no trace of the address in the sealed form', (_name, ip) => {
    const keyring = ring('a', { a: A })
    const sealed = sealIp(ip, keyring, TENANT)
    expect(SealedIp.safeParse(sealed).success).toBe(true)
    expect(sealedIpKeyId(sealed)).toBe('a')
    if (ip) {
      expect(sealed).not.toContain(ip)
      expect(Buffer.from(sealed.split('.')[3]!, 'base64url').toString('latin1')).not.toContain(ip)
    }
    expect(openIp(sealed, keyring, TENANT)).toBe(ip)
  })

  it('gives IPv4 and IPv6 sealed forms of the same length, and a fresh IV every time', () => {
    const keyring = ring('a', { a: A })
    const v4 = sealIp('8.8.8.8', keyring, TENANT)
    const v6 = sealIp('2001:4860:4860:0000:0000:0000:0000:8888', keyring, TENANT)
    expect(v4.length).toBe(v6.length)
    expect(sealIp('8.8.8.8', keyring, TENANT)).not.toBe(v4)
  })

  it('fails authentication under another org or site (AAD)', () => {
    const keyring = ring('a', { a: A })
    const sealed = sealIp('8.8.8.8', keyring, TENANT)
    for (const other of [
      { orgId: 'other', siteId: 'web' },
      { orgId: 'acme', siteId: 'shop' },
    ]) {
      const err = failure(() => openIp(sealed, keyring, other))
      expect(err).toMatchObject({ failure: 'authentication_failed', message: 'authentication failed' })
    }
  })

  it.each([
    ['IV', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ] as const)('fails authentication when the %s was tampered with', (_name, part) => {
    const keyring = ring('a', { a: A })
    const sealed = sealIp('8.8.8.8', keyring, TENANT)
    expect(failure(() => openIp(tamper(sealed, part), keyring, TENANT)).failure).toBe('authentication_failed')
  })

  it('fails authentication when the key id was swapped for another known key', () => {
    const keyring = ring('a', { a: A, b: B })
    const sealed = sealIp('8.8.8.8', keyring, TENANT).replace(/^v1\.a\./, 'v1.b.')
    expect(failure(() => openIp(sealed, keyring, TENANT)).failure).toBe('authentication_failed')
  })

  it('names an unknown key id, and nothing more', () => {
    const sealed = sealIp('8.8.8.8', ring('old', { old: A }), TENANT)
    const err = failure(() => openIp(sealed, ring('new', { new: B }), TENANT))
    expect(err).toMatchObject({ failure: 'unknown_key', message: 'unknown key id "old"' })
  })

  it('refuses malformed and non-canonical values', () => {
    const keyring = ring('a', { a: A })
    const sealed = sealIp('8.8.8.8', keyring, TENANT)
    const parts = sealed.split('.')
    // The last character of the tag carries 4 spare bits: set one and the bytes stay the same, the spelling does not.
    const tag = Buffer.from(parts[4]!, 'base64url')
    const spare = parts[4]!.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[(tag[15]! & 0x3) * 16 + 1]
    expect(Buffer.from(spare, 'base64url')).toEqual(tag)
    for (const bad of ['8.8.8.8', '', sealed.slice(1), [...parts.slice(0, 4), spare].join('.')]) {
      expect(failure(() => openIp(bad, keyring, TENANT)).failure).toBe('malformed')
    }
  })

  it('keeps opening values sealed with the old key after the active key switched (rotation)', () => {
    const before = ring('a', { a: A })
    const during = ring('a', { a: A, b: B })
    const after = ring('b', { a: A, b: B })
    const oldSealed = sealIp('203.0.113.7', before, TENANT)
    const newSealed = sealIp('2001:db8::7', after, TENANT)
    expect(sealedIpKeyId(newSealed)).toBe('b')
    expect(openIp(oldSealed, during, TENANT)).toBe('203.0.113.7')
    expect(openIp(oldSealed, after, TENANT)).toBe('203.0.113.7')
    expect(openIp(newSealed, after, TENANT)).toBe('2001:db8::7')
    // Once the old key is retired, what it sealed no longer opens.
    expect(failure(() => openIp(oldSealed, ring('b', { b: B }), TENANT)).failure).toBe('unknown_key')
  })

  it('refuses to seal without the active key, or something that is not an address', () => {
    expect(failure(() => sealIp('8.8.8.8', ring('x', { a: A }), TENANT)).failure).toBe('unknown_key')
    expect(failure(() => sealIp('1'.repeat(65), ring('a', { a: A }), TENANT)).failure).toBe('malformed')
    expect(failure(() => sealIp('8.8.8.8\0', ring('a', { a: A }), TENANT)).failure).toBe('malformed')
  })
})
