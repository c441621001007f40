import { DEMO_TRAFFIC_DEFAULTS } from './traffic.js'
import { DOCS_SITE, PRODUCT_SITE, type SiteProfile } from './traffic-profiles.js'

/** The org and product site ingest's demoTenants() defines; the demo page sends to that site. */
export const DEMO_ORG = 'demo'
export const DEMO_SITE = 'demo'
/** The demo org's second site: only generated traffic reaches it, so the dashboard's site switcher has two populated sites. */
export const DEMO_DOCS_SITE = 'docs'

/** The docs site's origin: a name under localhost (browsers resolve it to loopback) with no page of its own in the demo. */
export const docsOrigin = (demoPort: number) => `http://docs.localhost:${demoPort}`

export interface DemoTrafficSite {
  siteId: string
  origin: string
  profile: SiteProfile
  visitors: number
  seed: number
}

/** Which demo sites get generated traffic, and how much: the product about 3,000 visitors, its docs about 1,200. */
export function demoTrafficSites(demoPort: number): DemoTrafficSite[] {
  return [
    { siteId: DEMO_SITE, origin: `http://localhost:${demoPort}`, profile: PRODUCT_SITE, visitors: DEMO_TRAFFIC_DEFAULTS.visitors, seed: DEMO_TRAFFIC_DEFAULTS.seed },
    { siteId: DEMO_DOCS_SITE, origin: docsOrigin(demoPort), profile: DOCS_SITE, visitors: 1_200, seed: 20_240_602 },
  ]
}
