import { randomBytes } from 'node:crypto'
import { type IpKeyring, openIp, sealIp, TenantDirectory, hashApiKey } from '@atspark/runtime'
import type { Envelope } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { DEMO_DOCS_SITE, DEMO_ORG, DEMO_SITE, demoTrafficSites } from './sites.js'
import { demoOrgTenants } from './tenants.js'
import { demoTraffic } from './traffic.js'
import { DOCS_SITE, PRODUCT_SITE } from './traffic-profiles.js'

const SECRET = randomBytes(32).toString('base64')
const NOW = Date.UTC(2026, 5, 15, 13, 37)

describe('the demo org', () => {
  it('has the product and docs sites and, when minted, an analyst and a privacy key', () => {
    const analyst = hashApiKey('sk_analyst_for_test')
    const privacy = hashApiKey('sk_privacy_for_test')
    const dir = TenantDirectory.from(demoOrgTenants(3000, { hmacSecret: SECRET, analystKeyHash: analyst, privacyKeyHash: privacy }))
    expect(dir.org(DEMO_ORG)?.sites.map((s) => s.id)).toEqual([DEMO_SITE, DEMO_DOCS_SITE])
    expect(dir.apiKey(analyst)).toMatchObject({ orgId: DEMO_ORG, role: 'analyst' })
    expect(dir.apiKey(privacy)).toMatchObject({ orgId: DEMO_ORG, role: 'privacy' })
    expect(dir.site('pk_demo_docs')).toMatchObject({ orgId: DEMO_ORG, site: { id: DEMO_DOCS_SITE } })
  })

  it('mints no key it was not given', () => {
    const dir = TenantDirectory.from(demoOrgTenants(3000, { hmacSecret: SECRET }))
    expect(dir.summary()).toEqual({ orgs: 1, sites: 2, api_keys: 0 })
  })

  it('generates traffic for both sites, each with its own pages and features', () => {
    const [product, docs] = demoTrafficSites(3000)
    expect([product?.siteId, docs?.siteId]).toEqual([DEMO_SITE, DEMO_DOCS_SITE])
    expect(product?.profile).toBe(PRODUCT_SITE)
    expect(docs?.profile).toBe(DOCS_SITE)
    const keyring: IpKeyring = { active: 'k1', keys: new Map([['k1', randomBytes(32)]]) }
    const context = { orgId: DEMO_ORG, siteId: DEMO_DOCS_SITE }
    const envelopes = [
      ...demoTraffic({ ...context, siteUrl: docs!.origin, profile: DOCS_SITE, visitors: 400, seed: docs!.seed, now: NOW, seal: (ip) => sealIp(ip, keyring, context) }),
    ].filter((m): m is Envelope => m.kind === 'events')
    const events = envelopes.flatMap((e) => e.events)
    const pages = new Set(events.filter((e) => e.t === 'pageview').map((e) => new URL(e.u ?? '').pathname))
    const docsPages = new Set([...DOCS_SITE.entryPages, ...DOCS_SITE.browsePages, ...DOCS_SITE.appPages].map(([p]) => p))
    expect([...pages].every((p) => docsPages.has(p) || p === '/')).toBe(true)
    expect(pages.size).toBeGreaterThanOrEqual(6)
    const features = new Set(events.filter((e) => e.t === 'feature').map((e) => e.n))
    expect([...features].every((f) => DOCS_SITE.features.some(([name]) => name === f))).toBe(true)
    expect(features.size).toBeGreaterThanOrEqual(3)
    expect(envelopes.every((e) => e.site_id === DEMO_DOCS_SITE && e.events.every((ev) => ev.u?.startsWith(docs!.origin)))).toBe(true)
    // Sealed for the docs site: the product site's context cannot open them.
    expect(() => openIp(envelopes[0]!.ip_sealed, keyring, { orgId: DEMO_ORG, siteId: DEMO_SITE })).toThrow()
  })
})
