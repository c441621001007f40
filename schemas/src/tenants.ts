import { z } from 'zod'
import { SiteMode } from './consent.js'

const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase slug')

/** An origin exactly as browsers send it in the Origin header: scheme://host[:port], no path. */
export const Origin = z
  .string()
  .regex(/^https?:\/\/[^/?#\s]+$/, 'an origin is scheme://host[:port] with no path')
  .transform((o) => o.toLowerCase())

export const SiteConfig = z.strictObject({
  id: Slug,
  write_key: z.string().regex(/^pk_[A-Za-z0-9_]{3,100}$/, 'write keys look like pk_…'),
  allowed_origins: z.array(Origin).min(1),
  consent_mode: SiteMode,
  policy_revision: z.string().min(1).max(64).default('1'),
})
export type SiteConfig = z.infer<typeof SiteConfig>

export const OrgConfig = z.strictObject({
  id: Slug,
  name: z.string().min(1).max(200),
  sites: z.array(SiteConfig).min(1),
})
export type OrgConfig = z.infer<typeof OrgConfig>

/** The tenants file: orgs and their sites. Write keys are unique across all orgs. */
export const TenantsConfig = z
  .strictObject({ orgs: z.array(OrgConfig).min(1) })
  .superRefine((cfg, ctx) => {
    const keys = new Set<string>()
    for (const org of cfg.orgs) {
      const siteIds = new Set<string>()
      for (const site of org.sites) {
        if (keys.has(site.write_key)) ctx.addIssue({ code: 'custom', message: `duplicate write key ${site.write_key}` })
        if (siteIds.has(site.id)) ctx.addIssue({ code: 'custom', message: `duplicate site ${org.id}/${site.id}` })
        keys.add(site.write_key)
        siteIds.add(site.id)
      }
    }
  })
export type TenantsConfig = z.infer<typeof TenantsConfig>
export type TenantsConfigInput = z.input<typeof TenantsConfig>
