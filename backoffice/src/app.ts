import { edgeHeaders, mountOperatorRoutes, type ReadinessCheck } from '@atspark/runtime'
import { pingWithin } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { Hono } from 'hono'
import type { Registry } from 'prom-client'
import { createDashboardApp, type DashboardOptions } from './dashboard/routes.js'
import { createPrivacyApp, type PrivacyApiDeps } from './privacy/api.js'
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
}

export type { ReadinessCheck }

/** A warehouse that does not answer a ping within this long is unreachable, as far as readiness goes. */
const PING_TIMEOUT_MS = 2_000

/** The back office trusts no proxy's X-Forwarded-Proto: HSTS only when it serves TLS itself (a TLS proxy in front adds its own). */
const NO_TRUSTED_PROXY = () => false

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
  if (deps.stats) app.route('/v1/stats', createStatsApp(deps.stats))
  // The analyst dashboard reads the stats API, so it is served wherever that is (and / leads to it).
  if (deps.stats) app.route('/', createDashboardApp(deps.dashboard))
  app.get('/openapi.json', (c) => c.json(openApiDocument()))
  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  return app
}
