import { demoTenants } from '@atspark/runtime'
import type { TenantsConfigInput } from '@atspark/schemas'
import { DEMO_DOCS_SITE, DEMO_ORG, DEMO_SITE, docsOrigin } from './sites.js'

/** The product's goals, on events and pages its demo traffic produces (docs/analysts.md's examples use them). */
export const DEMO_SITE_GOALS = [
  { name: 'Signup', event: 'signup' },
  { name: 'Visit pricing', page: '/pricing' },
]

/** The docs site's goals: a snippet copied (a click's name), any SDK page read. */
export const DOCS_SITE_GOALS = [
  { name: 'Copy snippet', event: 'Copy snippet' },
  { name: 'Read the SDK docs', page: '/sdk/**' },
]

export interface DemoTenantKeys {
  hmacSecret: string
  /** SHA-256 hex of the minted privacy key (role privacy). */
  privacyKeyHash?: string
  /** SHA-256 hex of the minted analyst key (role analyst), for the dashboard and the stats API. */
  analystKeyHash?: string
  /** SHA-256 hex of the minted admin key (role admin): stats and privacy, and shared links. */
  adminKeyHash?: string
}

/** ingest's demo tenant plus what the dashboard demo needs: analyst and admin keys and a docs site. */
export function demoOrgTenants(demoPort: number, keys: DemoTenantKeys): TenantsConfigInput {
  const base = demoTenants(demoPort, { hmacSecret: keys.hmacSecret, ...(keys.privacyKeyHash ? { privacyKeyHash: keys.privacyKeyHash } : {}) })
  return {
    orgs: base.orgs.map((org) =>
      org.id !== DEMO_ORG
        ? org
        : {
            ...org,
            api_keys: [
              ...(org.api_keys ?? []),
              ...(keys.analystKeyHash ? [{ id: 'demo-analyst', hash: keys.analystKeyHash, role: 'analyst' as const }] : []),
              ...(keys.adminKeyHash ? [{ id: 'demo-admin', hash: keys.adminKeyHash, role: 'admin' as const }] : []),
            ],
            sites: [
              ...org.sites.map((site) => (site.id === DEMO_SITE ? { ...site, goals: DEMO_SITE_GOALS } : site)),
              {
                id: DEMO_DOCS_SITE,
                write_key: 'pk_demo_docs',
                allowed_origins: [docsOrigin(demoPort)],
                consent_mode: 'opt-out' as const,
                policy_revision: '1',
                goals: DOCS_SITE_GOALS,
              },
            ],
          },
    ),
  }
}
