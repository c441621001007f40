import { describe, expect, it } from 'vitest'
import { IpKeysFile, SealedIp } from './ip-keys.js'

const KEY = Buffer.alloc(32, 7).toString('base64')

describe('IpKeysFile', () => {
  it('accepts base64 and base64url keys with an active id among them', () => {
    const file = { active: 'k2', keys: { k1: KEY, k2: Buffer.alloc(32, 0xfb).toString('base64url') } }
    expect(IpKeysFile.parse(file)).toEqual(file)
  })

  it.each([
    ['an active id that is not a key', { active: 'k9', keys: { k1: KEY } }],
    ['a short key', { active: 'k1', keys: { k1: Buffer.alloc(16).toString('base64') } }],
    ['a key id with a dot', { active: 'k.1', keys: { 'k.1': KEY } }],
    ['an unknown field', { active: 'k1', keys: { k1: KEY }, extra: 1 }],
  ])('rejects %s', (_name, bad) => {
    expect(IpKeysFile.safeParse(bad).success).toBe(false)
  })
})

describe('SealedIp', () => {
  it('accepts the v1 compact form and nothing else', () => {
    const sealed = `v1.k1.${'A'.repeat(16)}.${'B'.repeat(86)}.${'C'.repeat(22)}`
    expect(SealedIp.safeParse(sealed).success).toBe(true)
    for (const bad of ['203.0.113.7', '', sealed.replace('v1.', 'v2.'), `${sealed}.x`, sealed.replace('.k1.', '.k:1.')]) {
      expect(SealedIp.safeParse(bad).success).toBe(false)
    }
  })
})
