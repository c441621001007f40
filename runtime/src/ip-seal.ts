import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject, randomFillSync } from 'node:crypto'
import { SEALED_IP_PATTERN } from '@atspark/schemas'

/** Ingest seals with `active`; the processor opens with whichever key the sealed value names. */
export interface IpKeyring {
  readonly active: string
  readonly keys: ReadonlyMap<string, Buffer>
}

/** The tenant a sealed IP belongs to: bound as AAD, so it cannot be moved to another org or site. */
export interface IpSealContext {
  orgId: string
  siteId: string
}

export type IpSealFailure = 'malformed' | 'unknown_key' | 'authentication_failed'

/** Opening failed. Messages name the key id at most, never the address or key material. */
export class IpSealError extends Error {
  constructor(
    readonly failure: IpSealFailure,
    message: string,
  ) {
    super(message)
    this.name = 'IpSealError'
  }
}

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16
/** Every address is padded to this many bytes, so ciphertext length says nothing about the address. */
export const SEALED_IP_PLAINTEXT_BYTES = 64

function aadFor(kid: string, context: IpSealContext): Buffer {
  // JSON keeps the parts unambiguous whatever characters the ids hold.
  return Buffer.from(JSON.stringify(['atspark-ip', VERSION, kid, context.orgId, context.siteId]), 'utf8')
}

// Per key buffer: importing raw key bytes on every createCipheriv was most of sealing's cost (profile-notes.md).
const keyObjects = new WeakMap<Buffer, KeyObject>()

function keyObject(key: Buffer): KeyObject {
  let object = keyObjects.get(key)
  if (!object) {
    object = createSecretKey(key)
    keyObjects.set(key, object)
  }
  return object
}

// The AAD of the (few) tenants this process seals or opens for, bounded in case a directory churns.
const aads = new Map<string, Buffer>()
const MAX_AADS = 10_000

function cachedAad(kid: string, context: IpSealContext): Buffer {
  const id = JSON.stringify([kid, context.orgId, context.siteId])
  let aad = aads.get(id)
  if (!aad) {
    if (aads.size >= MAX_AADS) aads.clear()
    aad = aadFor(kid, context)
    aads.set(id, aad)
  }
  return aad
}

// Random IVs drawn from a pool filled in one call; each 12-byte slice is used once.
const IV_POOL_SIZE = IV_BYTES * 1024
const ivPool = Buffer.alloc(IV_POOL_SIZE)
let ivOffset = IV_POOL_SIZE

function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > IV_POOL_SIZE) {
    randomFillSync(ivPool)
    ivOffset = 0
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES)
  ivOffset += IV_BYTES
  return iv
}

// Sealing is synchronous, so one zeroed scratch buffer serves every call.
const plaintext = Buffer.alloc(SEALED_IP_PLAINTEXT_BYTES)

/**
 * Seals a client address with AES-256-GCM under the keyring's active key:
 * `v1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts). Addresses longer than 64 bytes are
 * not addresses any socket or proxy gives; they are refused rather than cut.
 */
export function sealIp(ip: string, keyring: IpKeyring, context: IpSealContext): string {
  const key = keyring.keys.get(keyring.active)
  if (!key) throw new IpSealError('unknown_key', `active key id "${keyring.active}" is not in the keyring`)
  if (Buffer.byteLength(ip, 'utf8') > SEALED_IP_PLAINTEXT_BYTES || ip.includes('\0')) throw new IpSealError('malformed', 'not a sealable address')
  const iv = nextIv()
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv)
  cipher.setAAD(cachedAad(keyring.active, context))
  plaintext.write(ip, 'utf8')
  let ciphertext: Buffer
  try {
    ciphertext = cipher.update(plaintext)
  } finally {
    plaintext.fill(0)
  }
  // GCM is a stream mode: final() adds no bytes, it only computes the tag.
  cipher.final()
  return `${VERSION}.${keyring.active}.${iv.toString('base64url')}.${ciphertext.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
}

/** Decodes base64url, refusing non-canonical spellings (spare low bits set), so one sealed value has one spelling. */
function canonical(part: string): Buffer {
  const bytes = Buffer.from(part, 'base64url')
  if (bytes.toString('base64url') !== part) throw new IpSealError('malformed', 'malformed sealed IP')
  return bytes
}

/** The key id a sealed value names, or undefined when it is not a v1 sealed IP. */
export function sealedIpKeyId(sealed: string): string | undefined {
  return SEALED_IP_PATTERN.exec(sealed)?.[1]
}

/**
 * Opens a sealed address with whichever key of the keyring it names; throws IpSealError when
 * the format is wrong, the key id is unknown, or authentication fails (wrong key, wrong
 * tenant, or tampered).
 */
export function openIp(sealed: string, keyring: Pick<IpKeyring, 'keys'>, context: IpSealContext): string {
  const parts = SEALED_IP_PATTERN.exec(sealed)
  if (!parts) throw new IpSealError('malformed', 'malformed sealed IP')
  const [, kid, iv, ciphertext, tag] = parts as unknown as [string, string, string, string, string]
  const key = keyring.keys.get(kid)
  if (!key) throw new IpSealError('unknown_key', `unknown key id "${kid}"`)
  const decipher = createDecipheriv('aes-256-gcm', keyObject(key), canonical(iv), { authTagLength: TAG_BYTES })
  decipher.setAAD(cachedAad(kid, context))
  decipher.setAuthTag(canonical(tag))
  let plaintext: Buffer
  try {
    plaintext = Buffer.concat([decipher.update(canonical(ciphertext)), decipher.final()])
  } catch {
    throw new IpSealError('authentication_failed', 'authentication failed')
  }
  const end = plaintext.indexOf(0)
  const ip = plaintext.toString('utf8', 0, end === -1 ? plaintext.length : end)
  plaintext.fill(0)
  return ip
}
