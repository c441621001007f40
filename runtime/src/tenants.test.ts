import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TenantsConfigInput } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { demoTenants, TenantDirectory, TenantStore } from './tenants.js'

const HASH = 'c'.repeat(64)
const SECRET = Buffer.alloc(32, 7).toString('base64')

function config(keyId: string): TenantsConfigInput {
  return {
    orgs: [
      {
        id: 'acme',
        name: 'Acme',
        hmac_secret: SECRET,
        api_keys: [{ id: keyId, hash: HASH, role: 'privacy' }],
        sites: [{ id: 'web', write_key: 'pk_web', allowed_origins: ['https://app.example.com'], consent_mode: 'opt-in' }],
      },
    ],
  }
}

function tenantsFile(contents: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-tenants-unit-')), 'tenants.json')
  writeFileSync(file, typeof contents === 'string' ? contents : JSON.stringify(contents))
  return file
}

describe('TenantDirectory', () => {
  it('resolves write keys, key hashes, orgs and sites', () => {
    const dir = TenantDirectory.from(config('dpo'))
    expect(dir.site('pk_web')?.orgId).toBe('acme')
    expect(dir.apiKey(HASH)).toEqual({ keyId: 'dpo', orgId: 'acme', role: 'privacy' })
    expect(dir.apiKey('d'.repeat(64))).toBeUndefined()
    expect(dir.org('acme')?.hmac_secret).toBe(SECRET)
    expect(dir.siteOf('acme', 'web')).toMatchObject({ geo_precision: 'country', retention_months: 13 })
    expect(dir.summary()).toEqual({ orgs: 1, sites: 1, api_keys: 1 })
  })

  it('does not echo the file text when the JSON is broken (it may hold secrets)', async () => {
    const file = tenantsFile(`{"orgs": [{"hmac_secret": "${SECRET}"`)
    const err = await TenantDirectory.load(file).catch((e: Error) => e)
    expect(String(err)).toContain('is not valid JSON')
    expect(String(err)).not.toContain(SECRET)
  })

  it('seeds the demo org with an optional secret and privacy key', () => {
    const dir = TenantDirectory.from(demoTenants(3000, { hmacSecret: SECRET, privacyKeyHash: HASH }))
    expect(dir.apiKey(HASH)).toEqual({ keyId: 'demo-privacy', orgId: 'demo', role: 'privacy' })
    expect(TenantDirectory.from(demoTenants(3000)).summary()).toEqual({ orgs: 1, sites: 1, api_keys: 0 })
  })
})

describe('TenantStore', () => {
  it('swaps to a changed file on reload', async () => {
    const file = tenantsFile(config('dpo'))
    const store = await TenantStore.open(file, () => demoTenants(3000))
    const before = store.current()
    writeFileSync(file, JSON.stringify(config('dpo-2')))
    const result = await store.reload()
    expect(result.ok).toBe(true)
    expect(store.current()).not.toBe(before)
    expect(store.current().apiKey(HASH)?.keyId).toBe('dpo-2')
    // A request that took the old directory keeps a complete, consistent view.
    expect(before.apiKey(HASH)?.keyId).toBe('dpo')
  })

  it('keeps the old config when the new file is invalid or unreadable', async () => {
    const file = tenantsFile(config('dpo'))
    const store = await TenantStore.open(file, () => demoTenants(3000))
    const before = store.current()
    writeFileSync(file, JSON.stringify({ orgs: [{ id: 'acme', name: 'Acme', hmac_secret: 'c2hvcnQ=', sites: [] }] }))
    const invalid = await store.reload()
    expect(invalid.ok).toBe(false)
    expect(store.current()).toBe(before)
    writeFileSync(file, '{"orgs": [')
    expect((await store.reload()).ok).toBe(false)
    expect(store.current()).toBe(before)
  })

  it('shares one read between concurrent reloads', async () => {
    const store = await TenantStore.open(tenantsFile(config('dpo')), () => demoTenants(3000))
    const [a, b] = [store.reload(), store.reload()]
    expect(a).toBe(b)
    expect((await a).ok).toBe(true)
  })

  it('keeps a built-in config on reload when there is no file', async () => {
    const store = await TenantStore.open(undefined, () => demoTenants(3000))
    const result = await store.reload()
    expect(result.ok).toBe(false)
    expect(store.current().site('pk_demo')?.orgId).toBe('demo')
  })
})
