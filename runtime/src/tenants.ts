import { readFile } from 'node:fs/promises'
import { type ApiKeyRole, type OrgConfig, type SiteConfig, TenantsConfig, type TenantsConfigInput } from '@atspark/schemas'

export interface SiteRef {
  orgId: string
  site: SiteConfig
}

/** Who a back-office API key speaks for: the org comes from here, never from a request. */
export interface ApiKeyRef {
  keyId: string
  orgId: string
  role: ApiKeyRole
}

/** Write key → site, key hash → org and role, org id → org; built once per tenants config and replaced whole on reload. */
export class TenantDirectory {
  private readonly byKey: ReadonlyMap<string, SiteRef>
  private readonly byApiKeyHash: ReadonlyMap<string, ApiKeyRef>
  private readonly byOrg: ReadonlyMap<string, OrgConfig>
  private readonly bySite: ReadonlyMap<string, SiteConfig>
  /** Union of every site's origins: what CORS preflight may answer for. */
  readonly allOrigins: ReadonlySet<string>

  constructor(readonly config: TenantsConfig) {
    const byKey = new Map<string, SiteRef>()
    const byApiKeyHash = new Map<string, ApiKeyRef>()
    const byOrg = new Map<string, OrgConfig>()
    const bySite = new Map<string, SiteConfig>()
    const origins = new Set<string>()
    for (const org of config.orgs) {
      byOrg.set(org.id, org)
      for (const key of org.api_keys) byApiKeyHash.set(key.hash, { keyId: key.id, orgId: org.id, role: key.role })
      for (const site of org.sites) {
        byKey.set(site.write_key, { orgId: org.id, site })
        bySite.set(siteKey(org.id, site.id), site)
        for (const o of site.allowed_origins) origins.add(o)
      }
    }
    this.byKey = byKey
    this.byApiKeyHash = byApiKeyHash
    this.byOrg = byOrg
    this.bySite = bySite
    this.allOrigins = origins
  }

  static from(input: TenantsConfigInput): TenantDirectory {
    return new TenantDirectory(TenantsConfig.parse(input))
  }

  /** Reads and validates the whole file; throws (naming the file, never echoing secrets) on any problem. */
  static async load(file: string): Promise<TenantDirectory> {
    const text = await readFile(file, 'utf8')
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      // The parser's message quotes the text around the error, which may be a secret.
      throw new Error(`tenants file ${file} is not valid JSON`)
    }
    const parsed = TenantsConfig.safeParse(json)
    if (!parsed.success) throw new Error(`tenants file ${file} is invalid: ${parsed.error.message}`)
    return new TenantDirectory(parsed.data)
  }

  site(writeKey: string): SiteRef | undefined {
    return this.byKey.get(writeKey)
  }

  /** The key whose SHA-256 (lowercase hex) is `hash`, if any. */
  apiKey(hash: string): ApiKeyRef | undefined {
    return this.byApiKeyHash.get(hash)
  }

  org(orgId: string): OrgConfig | undefined {
    return this.byOrg.get(orgId)
  }

  siteOf(orgId: string, siteId: string): SiteConfig | undefined {
    return this.bySite.get(siteKey(orgId, siteId))
  }

  get orgs(): readonly OrgConfig[] {
    return this.config.orgs
  }

  /** Counts for logs and the audit log: nothing secret. */
  summary(): { orgs: number; sites: number; api_keys: number } {
    return { orgs: this.byOrg.size, sites: this.byKey.size, api_keys: this.byApiKeyHash.size }
  }
}

function siteKey(orgId: string, siteId: string): string {
  return `${orgId}\u0000${siteId}`
}

export type TenantReload = { ok: true; directory: TenantDirectory } | { ok: false; error: Error }

/**
 * The live tenants config. `reload()` parses the whole file before swapping one reference, so a
 * request sees either the old directory or the new one, never a mix, and a bad file changes nothing.
 */
export class TenantStore {
  private directory: TenantDirectory
  private pending: Promise<TenantReload> | undefined

  constructor(
    initial: TenantDirectory,
    /** The file reloads read; unset means a fixed config (the demo tenant) that reload keeps. */
    readonly file?: string,
  ) {
    this.directory = initial
  }

  static async open(file: string | undefined, fallback: () => TenantsConfigInput): Promise<TenantStore> {
    return file ? new TenantStore(await TenantDirectory.load(file), file) : new TenantStore(TenantDirectory.from(fallback()))
  }

  current(): TenantDirectory {
    return this.directory
  }

  /** Re-reads the file; on error keeps the current config and reports why. Concurrent calls share one read. */
  reload(): Promise<TenantReload> {
    this.pending ??= this.readAndSwap().finally(() => {
      this.pending = undefined
    })
    return this.pending
  }

  private async readAndSwap(): Promise<TenantReload> {
    if (!this.file) return { ok: false, error: new Error('no tenants file is configured (ATSPARK_TENANTS_FILE): the built-in config stays') }
    try {
      const next = await TenantDirectory.load(this.file)
      this.directory = next
      return { ok: true, directory: next }
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) }
    }
  }
}

/** Reloads `store` on every SIGHUP and hands the outcome to `onReload`; returns the unsubscribe. */
export function reloadOnSighup(store: TenantStore, onReload: (result: TenantReload) => void | Promise<void>): () => void {
  const handler = () => {
    void store.reload().then(onReload)
  }
  process.on('SIGHUP', handler)
  return () => process.off('SIGHUP', handler)
}

export interface DemoTenantOptions {
  /** The demo org's pseudonym key, base64; unset lets the processor derive one. */
  hmacSecret?: string
  /** SHA-256 hex of a demo back-office key with role `privacy`, printed at start-up by the embedded runner. */
  privacyKeyHash?: string
}

/** The tenant `npm start` seeds: org `demo`, write key `pk_demo`, opt-out as atSpark's policy has it. */
export function demoTenants(demoPort: number, options: DemoTenantOptions = {}): TenantsConfigInput {
  return {
    orgs: [
      {
        id: 'demo',
        name: 'Demo org',
        ...(options.hmacSecret ? { hmac_secret: options.hmacSecret } : {}),
        api_keys: options.privacyKeyHash ? [{ id: 'demo-privacy', hash: options.privacyKeyHash, role: 'privacy' }] : [],
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
