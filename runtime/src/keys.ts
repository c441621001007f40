import { createHash, createHmac, randomBytes } from 'node:crypto'
import { API_KEY_PREFIX } from '@atspark/schemas'
import type { TenantDirectory } from './tenants.js'

/** What the tenants file stores for a back-office key: lowercase hex SHA-256 of the whole key. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** A new back-office key, `sk_` + 32 random bytes in base64url, with the hash to put in the tenants file. */
export function generateApiKey(): { key: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`
  return { key, hash: hashApiKey(key) }
}

/** How the audit log and privacy_requests name a subject: sha256 hex of the id as given, never the id. */
export function subjectHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex')
}

/** An org's pseudonym key when the tenants file gives none: HMAC of the process key and the org id, so orgs never share one. */
export function deriveOrgSecret(master: Buffer, orgId: string): Buffer {
  return createHmac('sha256', master).update(`atspark/org-secret/v1/${orgId}`, 'utf8').digest()
}

/**
 * org id → pseudonym key, from the live tenants config: the org's `hmac_secret` (base64), else
 * one derived from the process key. Decoded keys are cached per directory, so a reload that
 * changes a secret takes effect at once.
 */
export function orgSecrets(tenants: () => TenantDirectory, master: Buffer): (orgId: string) => Buffer {
  const cache = new WeakMap<TenantDirectory, Map<string, Buffer>>()
  return (orgId) => {
    const dir = tenants()
    let byOrg = cache.get(dir)
    if (!byOrg) {
      byOrg = new Map()
      cache.set(dir, byOrg)
    }
    let secret = byOrg.get(orgId)
    if (!secret) {
      const configured = dir.org(orgId)?.hmac_secret
      secret = configured ? Buffer.from(configured, 'base64') : deriveOrgSecret(master, orgId)
      byOrg.set(orgId, secret)
    }
    return secret
  }
}

/** Turns a host app's user id into the org-scoped pseudonym stored as `user_pid`. */
export type Pseudonymize = (orgId: string, userId: string) => string

/** Pseudonyms remembered per process; a signed-in user sends many events, each an HMAC otherwise. */
const PSEUDONYM_CACHE_MAX = 10_000

/**
 * HMAC-SHA256(org secret, user id) as hex: stable per org, unlinkable across orgs without the secrets.
 * Cached by (org, user id) with the secret it was made with: a reloaded secret (a new Buffer) misses.
 */
export function pseudonymizer(secretForOrg: (orgId: string) => Buffer | string): Pseudonymize {
  const cache = new Map<string, { secret: Buffer | string; pid: string }>()
  return (orgId, userId) => {
    const secret = secretForOrg(orgId)
    const key = `${orgId}\u0000${userId}`
    const hit = cache.get(key)
    if (hit && hit.secret === secret) return hit.pid
    const pid = createHmac('sha256', secret).update(userId, 'utf8').digest('hex')
    // Oldest first out (Map keeps insertion order): bounded memory without an LRU's per-hit bookkeeping.
    if (!hit && cache.size >= PSEUDONYM_CACHE_MAX) cache.delete(cache.keys().next().value as string)
    cache.set(key, { secret, pid })
    return pid
  }
}
