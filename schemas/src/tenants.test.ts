import { describe, expect, it } from 'vitest'
import { TenantsConfig } from './tenants.js'

const site = { id: 'web', write_key: 'pk_web', allowed_origins: ['https://App.Example.com'], consent_mode: 'opt-in' }

describe('TenantsConfig', () => {
  it('accepts orgs with sites, lower-cases origins and defaults the policy revision', () => {
    const cfg = TenantsConfig.parse({ orgs: [{ id: 'acme', name: 'Acme', sites: [site] }] })
    expect(cfg.orgs[0]!.sites[0]!.allowed_origins).toEqual(['https://app.example.com'])
    expect(cfg.orgs[0]!.sites[0]!.policy_revision).toBe('1')
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

  it.each([
    ['an origin with a path', { ...site, allowed_origins: ['https://a.example/path'] }],
    ['an unknown consent mode', { ...site, consent_mode: 'maybe' }],
    ['a write key without the pk_ prefix', { ...site, write_key: 'sk_secret' }],
  ])('rejects %s', (_name, bad) => {
    expect(TenantsConfig.safeParse({ orgs: [{ id: 'acme', name: 'Acme', sites: [bad] }] }).success).toBe(false)
  })
})
