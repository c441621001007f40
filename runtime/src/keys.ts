import { createHash, createHmac, randomBytes } from 'node:crypto'
import { API_KEY_PREFIX } from '@atspark/schemas'
import type { TenantDirectory } from '@atspark/ingest'

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
