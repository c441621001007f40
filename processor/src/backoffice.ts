import type { ClickHouseClient } from '@clickhouse/client'
import { Hono } from 'hono'
import { Registry } from 'prom-client'
import { z } from 'zod'
import { createPrivacyApp, type PrivacyApiDeps } from './privacy/api.js'
import { createStatsApp, type StatsApiDeps } from './stats/api.js'
import { openApiDocument } from './stats/openapi.js'
import { FailpointMode, type WarehouseFailpoint } from './warehouse/failpoints.js'

export interface BackofficeDeps {
  warehouse: ClickHouseClient
  registries: Registry[]
  /** Extra readiness, e.g. the consumer has joined its group. */
  ready?: () => boolean
  failpoint?: WarehouseFailpoint
  /** The privacy API (bearer key, role privacy/admin, every attempt audited) at /v1/privacy. */
  privacy?: PrivacyApiDeps
  /** The stats API (bearer key, role analyst/admin, org from the key, k-anonymous) at /v1/stats. */
  stats?: StatsApiDeps
}

const FailpointBody = z.strictObject({ mode: z.enum(Object.values(FailpointMode) as [FailpointMode, ...FailpointMode[]]) })

/** The back office: health, readiness (the warehouse answers), metrics, the privacy and stats APIs, and the stats API's OpenAPI document. */
export function createBackofficeApp(deps: BackofficeDeps): Hono {
  const app = new Hono()
  const metrics = Registry.merge(deps.registries)
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    if (deps.ready && !deps.ready()) return c.json({ ready: false, reason: 'not consuming' }, 503)
    const ping = await deps.warehouse.ping()
    return ping.success ? c.json({ ready: true }) : c.json({ ready: false, reason: 'warehouse unreachable' }, 503)
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
  app.get('/openapi.json', (c) => c.json(openApiDocument()))
  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  return app
}
