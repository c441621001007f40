import { z } from 'zod'

/** Key ids travel inside sealed IPs and env lists, so they avoid `.`, `:` and `,`. */
export const IP_KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/

export const IpKeyId = z.string().regex(IP_KEY_ID_PATTERN, 'key id: 1 to 32 of A-Z a-z 0-9 _ -')

/** A 256-bit AES key as base64 or base64url (43 characters, optional `=`). */
export const IpKeyMaterial = z.string().regex(/^[A-Za-z0-9+/_-]{43}=?$/, 'must be a 32-byte key in base64 (e.g. `openssl rand -base64 32`)')

/**
 * `ATSPARK_IP_KEYS_FILE`: the keys that seal client IPs, re-read on SIGHUP. Ingest seals with
 * `active`; the processor opens with any of `keys`.
 */
export const IpKeysFile = z
  .strictObject({
    active: IpKeyId,
    keys: z.record(IpKeyId, IpKeyMaterial),
  })
  .refine((f) => Object.hasOwn(f.keys, f.active), { message: 'the active key id must be one of keys', path: ['active'] })
export type IpKeysFile = z.infer<typeof IpKeysFile>

/**
 * A client IP sealed by ingest (AES-256-GCM): `v1.<kid>.<iv>.<ciphertext>.<tag>`, parts in
 * base64url; 12-byte IV, 64-byte padded plaintext (so the length does not tell IPv4 from IPv6), 16-byte tag.
 */
export const SEALED_IP_PATTERN = /^v1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{86})\.([A-Za-z0-9_-]{22})$/

export const SealedIp = z.string().regex(SEALED_IP_PATTERN, 'not a sealed IP (v1.<kid>.<iv>.<ciphertext>.<tag>)')
