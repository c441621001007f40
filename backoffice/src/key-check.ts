import { type ApiKeyRef, hashApiKey, type TenantDirectory, type TrustFn } from '@atspark/runtime'
import type { ApiKeyRole } from '@atspark/schemas'
import type { Context } from 'hono'
import { type RefusedAttempts, RefusalResult } from './privacy/refusals.js'
import { bearerToken, requestAddress } from './request.js'

/** Which keys an API takes, and (for the privacy and shares APIs) where its refusals are counted. */
export interface KeyCheck {
  tenants: () => TenantDirectory
  roles: readonly ApiKeyRole[]
  /** What a key of another role may not do, for its 403: "use the privacy API". */
  purpose: string
  /** Refusals drain a per-address bucket and are audited as counts; without one they are only answered. */
  refusals?: { attempts: RefusedAttempts; trust: TrustFn; action: string }
}

/**
 * The caller's key from the bearer header alone, or the answer that refuses it: 429 once the address's
 * refusals emptied its bucket, 401 for a missing or unknown key, 403 for a key of another role.
 */
export function checkKey(c: Context, check: KeyCheck): ApiKeyRef | Response {
  const counted = check.refusals
  const address = counted ? requestAddress(c, counted.trust) : ''
  const refuse = (actor: ApiKeyRef | undefined, result: RefusalResult) =>
    counted?.attempts.refused(address, { actor: actor?.keyId ?? 'unknown', org: actor?.orgId ?? '', action: counted.action }, result)
  const limited = counted ? refusedTooOften(c, counted.attempts, address, counted.action) : undefined
  if (limited) return limited
  const token = bearerToken(c.req.header('authorization'))
  const key = token ? check.tenants().apiKey(hashApiKey(token)) : undefined
  if (!key) {
    refuse(undefined, RefusalResult.unauthorized)
    c.header('WWW-Authenticate', 'Bearer realm="atspark-backoffice"')
    return c.json({ error: 'unauthorized', message: token ? 'unknown API key' : 'missing bearer API key' }, 401)
  }
  if (!check.roles.includes(key.role)) {
    refuse(key, RefusalResult.forbidden)
    return c.json({ error: 'forbidden', message: `role ${key.role} may not ${check.purpose} (needs ${check.roles.join(' or ')})` }, 403)
  }
  return key
}

/** 429 (counted as one more refusal, with Retry-After) once the address's refusals emptied its bucket; undefined while it may try. */
export function refusedTooOften(c: Context, attempts: RefusedAttempts, address: string, action: string): Response | undefined {
  const waitMs = attempts.retryAfterMs(address)
  if (waitMs === undefined) return undefined
  attempts.refused(address, { actor: 'unknown', org: '', action }, RefusalResult.rateLimited)
  c.header('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))))
  return c.json({ error: 'rate_limited', message: 'too many refused attempts from this address; retry later' }, 429)
}
