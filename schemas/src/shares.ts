import { z } from 'zod'
import { WarehouseTime } from './row.js'

/** A shared link's secret: `sh_` + 32 random bytes in base64url (43 characters); only its sha256 is ever stored. */
export const SHARE_TOKEN_PREFIX = 'sh_'
export const ShareToken = z.string().regex(/^sh_[A-Za-z0-9_-]{43}$/, 'a shared-link token is sh_ + 43 base64url characters')

/** How long a shared link may live: at least a day, at most a year. */
export const SHARE_MIN_DAYS = 1
export const SHARE_MAX_DAYS = 365
export const SHARE_DEFAULT_DAYS = 30
export const SHARE_LABEL_MAX = 100

const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase slug')

/** One version of a row of `atspark.shared_links` (ReplacingMergeTree on `version`: a revocation is a newer version). */
export const SharedLinkRow = z.strictObject({
  link_id: z.uuid(),
  org_id: z.string(),
  site_id: z.string(),
  token_hash: z.string().regex(/^[0-9a-f]{64}$/).describe('sha256 hex of the token; the token itself is never stored'),
  label: z.string(),
  created_by: z.string().describe('the admin key id that created it'),
  created_at: WarehouseTime,
  expires_at: WarehouseTime,
  revoked_at: WarehouseTime.nullable(),
  version: z.number().int().nonnegative(),
})
export type SharedLinkRow = z.infer<typeof SharedLinkRow>

/** `POST /v1/shares` body: which site, for how many days, and a label for the list. */
export const ShareCreateBody = z.strictObject({
  site: Slug,
  expires_in_days: z.number().int().min(SHARE_MIN_DAYS).max(SHARE_MAX_DAYS).default(SHARE_DEFAULT_DAYS),
  label: z.string().max(SHARE_LABEL_MAX).default(''),
})
export type ShareCreateBody = z.infer<typeof ShareCreateBody>

/** `POST /v1/shares` answer: the only time the token is shown. Times are ISO 8601 UTC. */
export const ShareCreatedResponse = z.strictObject({
  id: z.uuid(),
  site: z.string(),
  label: z.string(),
  url: z.string(),
  token: ShareToken,
  expires_at: z.iso.datetime(),
})
export type ShareCreatedResponse = z.infer<typeof ShareCreatedResponse>

/** One link in `GET /v1/shares`: never its token nor its hash. */
export const ShareListItem = z.strictObject({
  id: z.uuid(),
  site: z.string(),
  label: z.string(),
  created_by: z.string(),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime(),
  revoked_at: z.iso.datetime().nullable(),
  active: z.boolean(),
})
export type ShareListItem = z.infer<typeof ShareListItem>

export const ShareListResponse = z.strictObject({ shares: z.array(ShareListItem) })
export type ShareListResponse = z.infer<typeof ShareListResponse>

export const ShareRevokedResponse = z.strictObject({ id: z.uuid(), revoked_at: z.iso.datetime() })
export type ShareRevokedResponse = z.infer<typeof ShareRevokedResponse>
