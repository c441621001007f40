import { createDecipheriv, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type IpKeyring, IpSealError, openIp, SEALED_IP_PLAINTEXT_BYTES, sealedIpKeyId, sealIp } from './ip-seal.js'

const A = randomBytes(32)
const keyring: IpKeyring = { active: 'a', keys: new Map([['a', A]]) }
const TENANT = { orgId: 'acme', siteId: 'web' }

describe('sealIp / openIp at the edges', () => {
  it(`seals and opens an address of exactly ${SEALED_IP_PLAINTEXT_BYTES} bytes, and refuses one byte more`, () => {
    const longest = 'f'.repeat(SEALED_IP_PLAINTEXT_BYTES)
    expect(openIp(sealIp(longest, keyring, TENANT), keyring, TENANT)).toBe(longest)
    // Bytes, not characters: 32 two-byte characters are 64 bytes, 33 are too many.
    expect(openIp(sealIp('é'.repeat(32), keyring, TENANT), keyring, TENANT)).toBe('é'.repeat(32))
    expect(() => sealIp('é'.repeat(33), keyring, TENANT)).toThrow(IpSealError)
  })

  it('leaves nothing of a longer address in the next, shorter one', () => {
    const long = sealIp('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', keyring, TENANT)
    const short = sealIp('1.2.3.4', keyring, TENANT)
    expect(openIp(short, keyring, TENANT)).toBe('1.2.3.4')
    expect(openIp(long, keyring, TENANT)).toBe('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')
  })

  it('never reuses an IV, also across refills of the IV pool', () => {
    const ivs = new Set<string>()
    // The pool holds 1,024 IVs: 2,500 seals cross it twice.
    for (let i = 0; i < 2_500; i++) {
      const iv = sealIp('8.8.8.8', keyring, TENANT).split('.')[2]!
      expect(Buffer.from(iv, 'base64url')).toHaveLength(12)
      ivs.add(iv)
    }
    expect(ivs.size).toBe(2_500)
  })

  it('binds each tenant separately however many tenants it has seen (the AAD cache stays keyed)', () => {
    const sealed = sealIp('8.8.8.8', keyring, TENANT)
    for (let i = 0; i < 50; i++) sealIp('8.8.8.8', keyring, { orgId: `org-${i}`, siteId: 'web' })
    expect(openIp(sealed, keyring, TENANT)).toBe('8.8.8.8')
    expect(() => openIp(sealed, keyring, { orgId: 'org-1', siteId: 'web' })).toThrow(expect.objectContaining({ failure: 'authentication_failed' }))
    // Parts of the ids cannot shift between org and site.
    const split = sealIp('8.8.8.8', keyring, { orgId: 'ab', siteId: 'c' })
    expect(() => openIp(split, keyring, { orgId: 'a', siteId: 'bc' })).toThrow(expect.objectContaining({ failure: 'authentication_failed' }))
  })

  it('names its error and its failure', () => {
    try {
      sealIp('8.8.8.8', { active: 'missing', keys: new Map() }, TENANT)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(IpSealError)
      expect(err).toMatchObject({ name: 'IpSealError', failure: 'unknown_key', message: 'active key id "missing" is not in the keyring' })
    }
  })

  it('writes the documented format: another implementation opens it with the AAD ["atspark-ip","v1",kid,org,site]', () => {
    const [version, kid, iv, ciphertext, tag] = sealIp('203.0.113.9', keyring, TENANT).split('.') as [string, string, string, string, string]
    expect([version, kid]).toEqual(['v1', 'a'])
    const decipher = createDecipheriv('aes-256-gcm', A, Buffer.from(iv, 'base64url'), { authTagLength: 16 })
    decipher.setAAD(Buffer.from(JSON.stringify(['atspark-ip', 'v1', 'a', 'acme', 'web']), 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()])
    expect(plain).toHaveLength(SEALED_IP_PLAINTEXT_BYTES)
    expect(plain.subarray(0, 11).toString('utf8')).toBe('203.0.113.9')
    expect(plain.subarray(11).every((b) => b === 0)).toBe(true)
  })

  it('says why it refuses, without quoting the value', () => {
    expect(() => sealIp('1'.repeat(65), keyring, TENANT)).toThrow(expect.objectContaining({ failure: 'malformed', message: 'not a sealable address' }))
    expect(() => openIp('8.8.8.8', keyring, TENANT)).toThrow(expect.objectContaining({ failure: 'malformed', message: 'malformed sealed IP' }))
    const parts = sealIp('8.8.8.8', keyring, TENANT).split('.')
    const tag = Buffer.from(parts[4]!, 'base64url')
    // Set a spare low bit of the tag's last character: the same bytes, a second spelling.
    const spare = parts[4]!.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[(tag[15]! & 0x3) * 16 + 1]
    expect(() => openIp([...parts.slice(0, 4), spare].join('.'), keyring, TENANT)).toThrow(
      expect.objectContaining({ failure: 'malformed', message: 'malformed sealed IP' }),
    )
  })

  it('names no key id for a value that is not sealed', () => {
    expect(sealedIpKeyId('8.8.8.8')).toBeUndefined()
    expect(sealedIpKeyId('')).toBeUndefined()
  })
})
