import { describe, expect, it } from 'vitest'
import { TenantsConfig } from './tenants.js'

const site = { id: 'web', write_key: 'pk_web', allowed_origins: ['https://App.Example.com'], consent_mode: 'opt-in' }
// 32 bytes of base64: the minimum a pseudonym key may carry.
const SECRET = 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY='
const HASH_A = 'a'.repeat(64)
const HASH_B = 'b'.repeat(64)

describe('TenantsConfig', () => {
  it('accepts orgs with sites, lower-cases origins and defaults the policy revision, geo precision and retention', () => {
    const cfg = TenantsConfig.parse({ orgs: [{ id: 'acme', name: 'Acme', sites: [site] }] })
    expect(cfg.orgs[0]!.sites[0]!.allowed_origins).toEqual(['https://app.example.com'])
    expect(cfg.orgs[0]!.sites[0]!).toMatchObject({ policy_revision: '1', geo_precision: 'country', retention_months: 13 })
    expect(cfg.orgs[0]!.api_keys).toEqual([])
  })

  it('accepts an org secret and API keys stored as hashes with roles', () => {
    const cfg = TenantsConfig.parse({
      orgs: [
        {
          id: 'acme',
          name: 'Acme',
          hmac_secret: SECRET,
          api_keys: [
            { id: 'analyst-1', hash: HASH_A, role: 'analyst' },
            { id: 'dpo', hash: HASH_B, role: 'privacy' },
          ],
          sites: [{ ...site, geo_precision: 'none', retention_months: 6 }],
        },
      ],
    })
    expect(cfg.orgs[0]!.api_keys.map((k) => k.role)).toEqual(['analyst', 'privacy'])
    expect(cfg.orgs[0]!.sites[0]).toMatchObject({ geo_precision: 'none', retention_months: 6 })
  })

  it('rejects a write key used twice', () => {
    const r = TenantsConfig.safeParse({
      orgs: [
        { id: 'a', name: 'A', sites: [site] },
        { id: 'b', name: 'B', sites: [{ ...site, id: 'other' }] },
      ],
    })
    expect(r.success).toBe(false)
    expect(r.error?.message).toContain('duplicate write key')
  })

  it('rejects an org id used twice', () => {
    const r = TenantsConfig.safeParse({
      orgs: [
        { id: 'a', name: 'A', sites: [site] },
        { id: 'a', name: 'A again', sites: [{ ...site, write_key: 'pk_other' }] },
      ],
    })
    expect(r.error?.message).toContain('duplicate org a')
  })

  it('rejects an API key id or hash used twice, across orgs too, without echoing the hash', () => {
    const twoOrgs = (a: object, b: object) => ({
      orgs: [
        { id: 'a', name: 'A', api_keys: [a], sites: [site] },
        { id: 'b', name: 'B', api_keys: [b], sites: [{ ...site, write_key: 'pk_other' }] },
      ],
    })
    const sameId = TenantsConfig.safeParse(twoOrgs({ id: 'k', hash: HASH_A, role: 'admin' }, { id: 'k', hash: HASH_B, role: 'admin' }))
    expect(sameId.error?.message).toContain('duplicate api key id k')
    const sameHash = TenantsConfig.safeParse(twoOrgs({ id: 'k1', hash: HASH_A, role: 'admin' }, { id: 'k2', hash: HASH_A, role: 'analyst' }))
    expect(sameHash.error?.message).toContain("reuses another key's hash")
    expect(sameHash.error?.message).not.toContain(HASH_A)
  })

  it.each([
    ['an origin with a path', { ...site, allowed_origins: ['https://a.example/path'] }],
    ['an unknown consent mode', { ...site, consent_mode: 'maybe' }],
    ['a write key without the pk_ prefix', { ...site, write_key: 'sk_secret' }],
    ['retention over 13 months', { ...site, retention_months: 14 }],
    ['retention under a month', { ...site, retention_months: 0 }],
    ['a fractional retention', { ...site, retention_months: 1.5 }],
    ['an unknown geo precision', { ...site, geo_precision: 'city' }],
  ])('rejects a site with %s', (_name, bad) => {
    expect(TenantsConfig.safeParse({ orgs: [{ id: 'acme', name: 'Acme', sites: [bad] }] }).success).toBe(false)
  })

  it.each([
    ['a secret shorter than 32 bytes', { hmac_secret: 'c2hvcnQ=' }],
    ['a secret that is not base64', { hmac_secret: `${'!'.repeat(44)}` }],
    ['a key hash that is not sha256 hex', { api_keys: [{ id: 'k', hash: 'sk_plaintext', role: 'admin' }] }],
    ['an upper-case key hash', { api_keys: [{ id: 'k', hash: 'A'.repeat(64), role: 'admin' }] }],
    ['an unknown role', { api_keys: [{ id: 'k', hash: HASH_A, role: 'root' }] }],
  ])('rejects an org with %s', (_name, bad) => {
    expect(TenantsConfig.safeParse({ orgs: [{ id: 'acme', name: 'Acme', sites: [site], ...bad }] }).success).toBe(false)
  })

  it('never puts the secret into a validation message', () => {
    const weak = 'd2Vhay1idXQtbm90LWVtcHR5'
    const r = TenantsConfig.safeParse({ orgs: [{ id: 'acme', name: 'Acme', sites: [site], hmac_secret: weak }] })
    expect(r.success).toBe(false)
    expect(r.error?.message).not.toContain(weak)
  })
})
