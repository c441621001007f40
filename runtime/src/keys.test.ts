import { createHash } from 'node:crypto'
import { TenantDirectory } from './tenants.js'
import { describe, expect, it } from 'vitest'
import { deriveOrgSecret, generateApiKey, hashApiKey, orgSecrets, subjectHash } from './keys.js'

describe('API keys', () => {
  it('are sk_ plus 43 base64url characters, stored as their lowercase sha256 hex', () => {
    const { key, hash } = generateApiKey()
    expect(key).toMatch(/^sk_[A-Za-z0-9_-]{43}$/)
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'))
    expect(hashApiKey(key)).toBe(hash)
    expect(generateApiKey().key).not.toBe(key)
  })

  it('hash subjects with plain sha256 of the id as given', () => {
    expect(subjectHash('user-1')).toBe(createHash('sha256').update('user-1').digest('hex'))
  })
})

describe('orgSecrets', () => {
  const master = Buffer.alloc(32, 1)
  const own = Buffer.alloc(32, 9)
  const dir = TenantDirectory.from({
    orgs: [
      { id: 'a', name: 'A', hmac_secret: own.toString('base64'), sites: [{ id: 'w', write_key: 'pk_aaa', allowed_origins: ['https://a.example'], consent_mode: 'opt-in' }] },
      { id: 'b', name: 'B', sites: [{ id: 'w', write_key: 'pk_bbb', allowed_origins: ['https://b.example'], consent_mode: 'opt-in' }] },
    ],
  })

  it("uses the org's own secret, else one derived per org from the process key", () => {
    const secretFor = orgSecrets(() => dir, master)
    expect(secretFor('a')).toEqual(own)
    expect(secretFor('b')).toEqual(deriveOrgSecret(master, 'b'))
    expect(deriveOrgSecret(master, 'b')).not.toEqual(deriveOrgSecret(master, 'c'))
    expect(deriveOrgSecret(master, 'b')).not.toEqual(master)
  })

  it('follows a reload that changes a secret', () => {
    let current = dir
    const secretFor = orgSecrets(() => current, master)
    expect(secretFor('a')).toEqual(own)
    const rotated = Buffer.alloc(32, 3)
    current = TenantDirectory.from({ orgs: [{ ...dir.config.orgs[0]!, hmac_secret: rotated.toString('base64') }] })
    expect(secretFor('a')).toEqual(rotated)
  })
})
