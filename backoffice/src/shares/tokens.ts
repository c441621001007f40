import { createHash, randomBytes } from 'node:crypto'
import { SHARE_TOKEN_PREFIX, ShareToken } from '@atspark/schemas'

/** A new shared-link token: `sh_` + 32 random bytes in base64url, with the sha256 hex that is all the warehouse keeps. */
export function newShareToken(): { token: string; hash: string } {
  const token = `${SHARE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
  return { token, hash: shareTokenHash(token) }
}

/** What `shared_links.token_hash` holds: lookups hash first, so a raw token is never compared with anything. */
export function shareTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

/** The hash of a well-formed token, or undefined: a malformed one never reaches the warehouse. */
export function hashIfWellFormed(token: string | undefined): string | undefined {
  return token !== undefined && ShareToken.safeParse(token).success ? shareTokenHash(token) : undefined
}
