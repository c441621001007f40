import type { ClickHouseClient } from '@clickhouse/client'
import { Hono } from 'hono'
import { Registry } from 'prom-client'

export interface BackofficeDeps {
  warehouse: ClickHouseClient
  registries: Registry[]
}

/** The back office: health, readiness (the warehouse answers) and metrics; the stats and privacy APIs join it later. */
export function createBackofficeApp(deps: BackofficeDeps): Hono {
  const app = new Hono()
  const metrics = Registry.merge(deps.registries)
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    const ping = await deps.warehouse.ping()
    return ping.success ? c.json({ ready: true }) : c.json({ ready: false, reason: 'warehouse unreachable' }, 503)
  })
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.contentType)
    return c.body(await metrics.metrics())
  })
  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  return app
}
