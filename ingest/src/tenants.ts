import { readFile } from 'node:fs/promises'
import { type SiteConfig, TenantsConfig, type TenantsConfigInput } from '@atspark/schemas'

export interface SiteRef {
  orgId: string
  site: SiteConfig
}

/** Write key → site lookup built once per tenants config; replaced whole on reload. */
export class TenantDirectory {
  private readonly byKey: ReadonlyMap<string, SiteRef>
  /** Union of every site's origins: what CORS preflight may answer for. */
  readonly allOrigins: ReadonlySet<string>

  constructor(config: TenantsConfig) {
    const byKey = new Map<string, SiteRef>()
    const origins = new Set<string>()
    for (const org of config.orgs) {
      for (const site of org.sites) {
        byKey.set(site.write_key, { orgId: org.id, site })
        for (const o of site.allowed_origins) origins.add(o)
      }
    }
    this.byKey = byKey
    this.allOrigins = origins
  }

  static from(input: TenantsConfigInput): TenantDirectory {
    return new TenantDirectory(TenantsConfig.parse(input))
  }

  static async load(file: string): Promise<TenantDirectory> {
    const text = await readFile(file, 'utf8')
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      throw new Error(`tenants file ${file} is not valid JSON`, { cause: err })
    }
    const parsed = TenantsConfig.safeParse(json)
    if (!parsed.success) throw new Error(`tenants file ${file} is invalid: ${parsed.error.message}`)
    return new TenantDirectory(parsed.data)
  }

  site(writeKey: string): SiteRef | undefined {
    return this.byKey.get(writeKey)
  }
}

/** The tenant `npm start` seeds: org `demo`, write key `pk_demo`, opt-out as atSpark's policy has it. */
export function demoTenants(demoPort: number): TenantsConfigInput {
  return {
    orgs: [
      {
        id: 'demo',
        name: 'Demo org',
        sites: [
          {
            id: 'demo',
            write_key: 'pk_demo',
            allowed_origins: [`http://localhost:${demoPort}`, `http://127.0.0.1:${demoPort}`],
            consent_mode: 'opt-out',
            policy_revision: '1',
          },
        ],
      },
    ],
  }
}
