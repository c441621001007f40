import { z } from 'zod'
import { SiteMode } from './consent.js'
import { EVENTS_TTL_MONTHS, HMAC_SECRET_MIN_BYTES } from './constants.js'

const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase slug')

/** An origin exactly as browsers send it in the Origin header: scheme://host[:port], no path. */
export const Origin = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+$/, 'an origin is scheme://host[:port] with no path')
  .transform((o) => o.toLowerCase())

/** `country`: the processor keeps the country looked up from the full IP; `none`: no geo at all. */
export const GeoPrecision = z.enum(['country', 'none'])
export type GeoPrecision = z.infer<typeof GeoPrecision>

const GoalName = z.string().min(1).max(100).regex(/^[^:\s][^:]*$/, 'a goal name has no colon (event:… and page:… are inline goals)')

/** A conversion goal: an event name, or a page path pattern (`*` any characters but `/`, `**` any characters). */
export const SiteGoal = z.union([
  z.strictObject({ name: GoalName, event: z.string().min(1).max(200) }),
  z.strictObject({ name: GoalName, page: z.string().regex(/^\/\S{0,199}$/, 'a page goal is a path pattern starting with /') }),
])
export type SiteGoal = z.infer<typeof SiteGoal>

export const SiteConfig = z.strictObject({
  id: Slug,
  write_key: z.string().regex(/^pk_[A-Za-z0-9_]{3,100}$/, 'write keys look like pk_…'),
  allowed_origins: z.array(Origin).min(1),
  consent_mode: SiteMode,
  policy_revision: z.string().min(1).max(64).default('1'),
  geo_precision: GeoPrecision.default('country'),
  /** Raw events of this site are deleted after this many months; the policy's ceiling is 13. */
  retention_months: z.number().int().min(1).max(EVENTS_TTL_MONTHS).default(EVENTS_TTL_MONTHS),
  /** Goals the stats API reports conversions for; names unique per site. */
  goals: z
    .array(SiteGoal)
    .max(100)
    .default([])
    .superRefine((goals, ctx) => {
      const seen = new Set<string>()
      for (const g of goals) {
        if (seen.has(g.name)) ctx.addIssue({ code: 'custom', message: `duplicate goal ${g.name}` })
        seen.add(g.name)
      }
    }),
})
export type SiteConfig = z.infer<typeof SiteConfig>

/** Least privilege: `analyst` reads stats, `privacy` handles data-subject requests, `admin` may do both. */
export const ApiKeyRole = z.enum(['analyst', 'privacy', 'admin'])
export type ApiKeyRole = z.infer<typeof ApiKeyRole>

/** A back-office key as the tenants file holds it: never the key itself, only its SHA-256. */
export const ApiKeyConfig = z.strictObject({
  id: Slug.describe('names the key in the audit log'),
  hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'hash is the lowercase hex SHA-256 of the secret key (sk_…)')
    .describe('sha256 hex of the secret key'),
  role: ApiKeyRole,
})
export type ApiKeyConfig = z.infer<typeof ApiKeyConfig>

/** Bytes a base64 string decodes to, without decoding it (schemas depend on zod only). */
function base64Bytes(s: string): number {
  const body = s.replace(/=+$/, '')
  return Math.floor((body.length * 3) / 4)
}

/** The org's pseudonym key: base64 of at least 32 random bytes. Never logged. */
export const HmacSecret = z
  .base64('hmac_secret must be base64')
  .refine((s) => base64Bytes(s) >= HMAC_SECRET_MIN_BYTES, { message: `hmac_secret must decode to at least ${HMAC_SECRET_MIN_BYTES} bytes` })

export const OrgConfig = z.strictObject({
  id: Slug,
  name: z.string().min(1).max(200),
  /**
   * Key of `user_pid = HMAC-SHA256(hmac_secret, user_id)`. Changing it changes every future
   * pseudonym, so exports and suppressions by user id no longer match older rows. Unset: the
   * processor derives one for this org from its own pseudonym key (ATSPARK_HMAC_SECRET or the data dir).
   */
  hmac_secret: HmacSecret.optional(),
  api_keys: z.array(ApiKeyConfig).default([]),
  sites: z.array(SiteConfig).min(1),
})
export type OrgConfig = z.infer<typeof OrgConfig>

/** The tenants file: orgs, their sites and back-office keys. Write keys, org ids, key ids and key hashes are unique across all orgs. */
export const TenantsConfig = z
  .strictObject({ orgs: z.array(OrgConfig).min(1) })
  .superRefine((cfg, ctx) => {
    const keys = new Set<string>()
    const orgIds = new Set<string>()
    const apiKeyIds = new Set<string>()
    const apiKeyHashes = new Set<string>()
    for (const org of cfg.orgs) {
      if (orgIds.has(org.id)) ctx.addIssue({ code: 'custom', message: `duplicate org ${org.id}` })
      orgIds.add(org.id)
      const siteIds = new Set<string>()
      for (const site of org.sites) {
        if (keys.has(site.write_key)) ctx.addIssue({ code: 'custom', message: `duplicate write key ${site.write_key}` })
        if (siteIds.has(site.id)) ctx.addIssue({ code: 'custom', message: `duplicate site ${org.id}/${site.id}` })
        keys.add(site.write_key)
        siteIds.add(site.id)
      }
      for (const key of org.api_keys) {
        if (apiKeyIds.has(key.id)) ctx.addIssue({ code: 'custom', message: `duplicate api key id ${key.id}` })
        // Never echo the hash: the message names the key id only.
        if (apiKeyHashes.has(key.hash)) ctx.addIssue({ code: 'custom', message: `api key ${org.id}/${key.id} reuses another key's hash` })
        apiKeyIds.add(key.id)
        apiKeyHashes.add(key.hash)
      }
    }
  })
export type TenantsConfig = z.infer<typeof TenantsConfig>
export type TenantsConfigInput = z.input<typeof TenantsConfig>
