import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { type IpKeyring, IpSealError, openIp, SEALED_IP_PLAINTEXT_BYTES, sealIp } from './ip-seal.js'

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
})
