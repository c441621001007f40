import { edgeHeaders, mountOperatorRoutes, type ReadinessCheck } from '@atspark/runtime'
import { pingWithin, warehouseSharedLinkStore } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { Hono } from 'hono'
import type { Registry } from 'prom-client'
import { createDashboardApp, type DashboardOptions } from './dashboard/routes.js'
import { createPrivacyApp, type PrivacyApiDeps } from './privacy/api.js'
import { RefusedAttempts } from './privacy/refusals.js'
import { createSharesAdminApp, type SharesDeps } from './shares/api.js'
import { createSharedStatsApp, sharedPageGuard } from './shares/public.js'
import { createStatsApp, type StatsApiDeps } from './stats/api.js'
import { openApiDocument } from './stats/openapi.js'

export interface BackofficeDeps {
  warehouse: ClickHouseClient
  registries: Registry[]
  /** Extra readiness, checked in order before the warehouse ping: the first failing one is the reason given. */
  readiness?: ReadinessCheck[]
  /** More routes of the same process (e.g. the processor's test-only failpoint switch when both share one process). */
  routes?: Hono
  /** The privacy API (bearer key, role privacy/admin, every attempt audited) at /v1/privacy. */
  privacy?: PrivacyApiDeps
  /** The stats API (bearer key, role analyst/admin, org from the key, k-anonymous) at /v1/stats. */
  stats?: StatsApiDeps
  /** Where the dashboard's built files are (tests); default beside the built module. */
  dashboard?: DashboardOptions
  /**
   * Shared links, served with the stats API: the admin API at /v1/shares, the stats API behind a link at
   * /v1/shared/<token>/stats and the page at /share/<token>. By default the warehouse's shared_links, the
   * privacy API's refusal buckets and trusted proxies; tests may set the store, clock and buckets.
   */
  shares?: Partial<Pick<SharesDeps, 'store' | 'refusals' | 'trust' | 'now'>>
}

export type { ReadinessCheck }

/** A warehouse that does not answer a ping within this long is unreachable, as far as readiness goes. */
const PING_TIMEOUT_MS = 2_000

/** The back office trusts no proxy's X-Forwarded-Proto: HSTS only when it serves TLS itself (a TLS proxy in front adds its own). */
const NO_TRUSTED_PROXY = () => false

/** Refused-attempt buckets when no privacy API shares its own: the back office's defaults (BACKOFFICE_REFUSED_*). */
const DEFAULT_REFUSALS = { ratePerSecond: 1, burst: 60, maxTracked: 100_000 } as const

function sharesDeps(deps: BackofficeDeps, stats: StatsApiDeps): SharesDeps {
  const now = deps.shares?.now ?? stats.now
  return {
    tenants: stats.tenants,
    logger: stats.logger,
    store: deps.shares?.store ?? warehouseSharedLinkStore(deps.warehouse),
    // One bucket per address for every back-office credential: guessing keys and guessing links drain the same one.
    refusals: deps.shares?.refusals ?? deps.privacy?.refusals ?? new RefusedAttempts(DEFAULT_REFUSALS),
    trust: deps.shares?.trust ?? deps.privacy?.trust ?? NO_TRUSTED_PROXY,
    ...(now ? { now } : {}),
  }
}

/** The back office: health, readiness (the warehouse answers), metrics, the privacy and stats APIs, the analyst dashboard, and the stats API's OpenAPI document. */
export function createBackofficeApp(deps: BackofficeDeps): Hono {
  const app = new Hono()
  // Every answer (personal-data exports, errors, 404s, /metrics, /openapi.json) gets the edge's protective headers,
  // no-store included; the dashboard's own CSP and caching, set first, are kept.
  app.use('*', edgeHeaders(NO_TRUSTED_PROXY))
  mountOperatorRoutes(app, {
    registries: deps.registries,
    readiness: deps.readiness ?? [],
    ping: { reason: 'warehouse unreachable', ok: () => pingWithin(deps.warehouse, PING_TIMEOUT_MS) },
  })
  if (deps.routes) app.route('/', deps.routes)
  if (deps.privacy) app.route('/v1/privacy', createPrivacyApp(deps.privacy))
  if (deps.stats) {
    app.route('/v1/stats', createStatsApp(deps.stats))
    const shares = sharesDeps(deps, deps.stats)
    app.route('/v1/shares', createSharesAdminApp(shares))
    app.route('/v1/shared', createSharedStatsApp(shares, deps.stats))
    // The analyst dashboard reads the stats API, so it is served wherever that is (and / leads to it), and at /share/<token>.
    app.route('/', createDashboardApp(deps.dashboard, sharedPageGuard(shares)))
  }
  app.get('/openapi.json', (c) => c.json(openApiDocument()))
  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  return app
}
