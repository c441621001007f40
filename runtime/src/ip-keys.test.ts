import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseEnv, ServiceEnv } from './env.js'

const parseIngestEnv = (vars: Record<string, string | undefined>) => parseEnv(ServiceEnv, 'ingest', vars)
import { GENERATED_IP_KEYS_FILE, IP_KEYS_MISSING, IpKeys } from './ip-keys.js'
import { openIp, sealIp } from './ip-seal.js'

const K1 = randomBytes(32)
const K2 = randomBytes(32)
const TENANT = { orgId: 'acme', siteId: 'web' }
const tmp = () => mkdtempSync(join(tmpdir(), 'atspark-ipkeys-'))

function envError(vars: Record<string, string>): string {
  try {
    parseIngestEnv(vars)
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected the environment to be refused')
}

describe('IP keys in the environment', () => {
  it('parses kid:base64 pairs (base64 or base64url) and the active kid', () => {
    const env = parseIngestEnv({ ATSPARK_IP_KEYS: `k1:${K1.toString('base64')}, k2:${K2.toString('base64url')}`, ATSPARK_IP_KEY_ACTIVE: 'k2' })
    expect([...env.ATSPARK_IP_KEYS!.entries()]).toEqual([
      ['k1', K1],
      ['k2', K2],
    ])
    expect(env.ATSPARK_IP_KEY_ACTIVE).toBe('k2')
  })

  it('treats unset and empty as not configured', () => {
    expect(parseIngestEnv({}).ATSPARK_IP_KEYS).toBeUndefined()
    expect(parseIngestEnv({ ATSPARK_IP_KEYS: '', ATSPARK_IP_KEY_ACTIVE: '', ATSPARK_IP_KEYS_FILE: '' }).ATSPARK_IP_KEYS_FILE).toBeUndefined()
  })

  it.each([
    ['a short key', { ATSPARK_IP_KEYS: `k1:${randomBytes(16).toString('base64')}` }, /key "k1" must be 32 bytes[\s\S]*at ATSPARK_IP_KEYS/],
    ['a key without a kid', { ATSPARK_IP_KEYS: K1.toString('base64') }, /entry 1: expected <kid>:<base64 key>/],
    ['a kid with a dot', { ATSPARK_IP_KEYS: `k.1:${K1.toString('base64')}` }, /entry 1/],
    ['a repeated kid', { ATSPARK_IP_KEYS: `k1:${K1.toString('base64')},k1:${K2.toString('base64')}` }, /"k1" appears twice/],
    ['several keys and no active kid', { ATSPARK_IP_KEYS: `k1:${K1.toString('base64')},k2:${K2.toString('base64')}` }, /required when ATSPARK_IP_KEYS holds several keys[\s\S]*at ATSPARK_IP_KEY_ACTIVE/],
    ['an active kid that is not a key', { ATSPARK_IP_KEYS: `k1:${K1.toString('base64')}`, ATSPARK_IP_KEY_ACTIVE: 'k2' }, /"k2" is not a kid of ATSPARK_IP_KEYS/],
    ['an active kid without keys', { ATSPARK_IP_KEY_ACTIVE: 'k1' }, /needs ATSPARK_IP_KEYS/],
    ['keys and a keys file', { ATSPARK_IP_KEYS: `k1:${K1.toString('base64')}`, ATSPARK_IP_KEYS_FILE: '/x.json' }, /not both/],
  ])('refuses %s, without echoing key material', (_name, vars, message) => {
    const text = envError(vars)
    expect(text).toMatch(message)
    for (const key of [K1, K2]) {
      expect(text).not.toContain(key.toString('base64'))
      expect(text).not.toContain(key.toString('base64url'))
    }
  })
})

describe('IpKeys', () => {
  it('takes the only listed key as active', async () => {
    const keys = await IpKeys.load(parseIngestEnv({ ATSPARK_IP_KEYS: `solo:${K1.toString('base64')}` }))
    expect(keys.describe()).toEqual({ source: 'env', active: 'solo', kids: ['solo'] })
    expect(await keys.reload()).toBe(false)
  })

  it('fails naming ATSPARK_IP_KEYS when nothing is configured and generating is not allowed', async () => {
    await expect(IpKeys.load(parseIngestEnv({}))).rejects.toThrow(IP_KEYS_MISSING)
    expect(IP_KEYS_MISSING).toContain('ATSPARK_IP_KEYS')
  })

  it('generates one key once into the data dir (0600) and reuses it', async () => {
    const dir = tmp()
    const first = await IpKeys.load(parseIngestEnv({}), { generateIn: dir })
    const file = join(dir, GENERATED_IP_KEYS_FILE)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const second = await IpKeys.load(parseIngestEnv({}), { generateIn: dir })
    expect(second.describe()).toEqual({ ...first.describe(), source: 'generated' })
    const sealed = sealIp('8.8.8.8', first.keyring, TENANT)
    expect(openIp(sealed, second.keyring, TENANT)).toBe('8.8.8.8')
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ active: first.keyring.active })
  })

  it('re-reads a keys file on reload, and keeps the current keys when the new file is bad', async () => {
    const file = join(tmp(), 'ip-keys.json')
    writeFileSync(file, JSON.stringify({ active: 'a', keys: { a: K1.toString('base64') } }))
    const keys = await IpKeys.load(parseIngestEnv({ ATSPARK_IP_KEYS_FILE: file }))
    const sealedWithA = sealIp('8.8.8.8', keys.keyring, TENANT)
    writeFileSync(file, JSON.stringify({ active: 'b', keys: { a: K1.toString('base64'), b: K2.toString('base64') } }))
    expect(await keys.reload()).toBe(true)
    expect(keys.describe()).toEqual({ source: 'file', active: 'b', kids: ['a', 'b'] })
    expect(openIp(sealedWithA, keys.keyring, TENANT)).toBe('8.8.8.8')

    const secret = K2.toString('base64')
    for (const bad of [`{"active":"b","keys":{"b":"${secret}"`, JSON.stringify({ active: 'c', keys: { b: secret } })]) {
      writeFileSync(file, bad)
      const err = await keys.reload().then(
        () => undefined,
        (e: Error) => e,
      )
      expect(err?.message).toMatch(/IP keys file .* (is not valid JSON|is invalid)/)
      expect(err?.message).not.toContain(secret)
      expect(keys.describe().active).toBe('b')
    }
  })
})
