import { edgeHeaders } from '@atspark/ingest'
import type { ClickHouseClient } from '@clickhouse/client'
import { Hono } from 'hono'
import { Registry } from 'prom-client'
import { z } from 'zod'
import { createDashboardApp, type DashboardOptions } from './dashboard/routes.js'
import { createPrivacyApp, type PrivacyApiDeps } from './privacy/api.js'
import { createStatsApp, type StatsApiDeps } from './stats/api.js'
import { openApiDocument } from './stats/openapi.js'
import { FailpointMode, type WarehouseFailpoint } from './warehouse/failpoints.js'

export interface BackofficeDeps {
  warehouse: ClickHouseClient
  registries: Registry[]
  /** Extra readiness, checked in order before the warehouse ping: the first failing one is the reason given. */
  readiness?: ReadinessCheck[]
  failpoint?: WarehouseFailpoint
  /** The privacy API (bearer key, role privacy/admin, every attempt audited) at /v1/privacy. */
  privacy?: PrivacyApiDeps
  /** The stats API (bearer key, role analyst/admin, org from the key, k-anonymous) at /v1/stats. */
  stats?: StatsApiDeps
  /** Where the dashboard's built files are (tests); default beside the built module. */
  dashboard?: DashboardOptions
}

/** One condition of /readyz, e.g. "Kafka answers" or "the consumer has joined its group". */
export interface ReadinessCheck {
  /** Said in the 503 body when the check fails. */
  reason: string
  ok: () => boolean
}

/** A warehouse that does not answer a ping within this long is unreachable, as far as readiness goes. */
const PING_TIMEOUT_MS = 2_000

/** The back office trusts no proxy's X-Forwarded-Proto: HSTS only when it serves TLS itself (a TLS proxy in front adds its own). */
const NO_TRUSTED_PROXY = () => false

const FailpointBody = z.strictObject({ mode: z.enum(Object.values(FailpointMode) as [FailpointMode, ...FailpointMode[]]) })

/** The back office: health, readiness (the warehouse answers), metrics, the privacy and stats APIs, the analyst dashboard, and the stats API's OpenAPI document. */
export function createBackofficeApp(deps: BackofficeDeps): Hono {
  const app = new Hono()
  // Every answer (personal-data exports, errors, 404s, /metrics, /openapi.json) gets the edge's protective headers,
  // no-store included; the dashboard's own CSP and caching, set first, are kept.
  app.use('*', edgeHeaders(NO_TRUSTED_PROXY))
  const metrics = Registry.merge(deps.registries)
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    const failing = deps.readiness?.find((check) => !check.ok())
    if (failing) return c.json({ ready: false, reason: failing.reason }, 503)
    return (await pingWithin(deps.warehouse, PING_TIMEOUT_MS)) ? c.json({ ready: true }) : c.json({ ready: false, reason: 'warehouse unreachable' }, 503)
  })
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.contentType)
    return c.body(await metrics.metrics())
  })
  const failpoint = deps.failpoint
  if (failpoint?.enabled) {
    // Test-only, and only when the process was started with ATSPARK_FAILPOINTS=1.
    app.put('/_failpoints/warehouse-write', async (c) => {
      const body = FailpointBody.safeParse(await c.req.json().catch(() => undefined))
      if (!body.success) return c.json({ error: 'invalid_failpoint', message: 'body must be {"mode":"off"|"fail"|"stall"}' }, 400)
      failpoint.set(body.data.mode)
      return c.json({ mode: failpoint.mode })
    })
  }
  if (deps.privacy) app.route('/v1/privacy', createPrivacyApp(deps.privacy))
  if (deps.stats) app.route('/v1/stats', createStatsApp(deps.stats))
  // The analyst dashboard reads the stats API, so it is served wherever that is (and / leads to it).
  if (deps.stats) app.route('/', createDashboardApp(deps.dashboard))
  app.get('/openapi.json', (c) => c.json(openApiDocument()))
  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  return app
}

/** True when the warehouse answered a ping within `ms`. */
async function pingWithin(warehouse: ClickHouseClient, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([warehouse.ping().then((p) => p.success, () => false), late])
  } finally {
    clearTimeout(timer)
  }
}
