import type { Hono } from 'hono'
import { Registry } from 'prom-client'

/** One condition of /readyz, e.g. "Kafka answers" or "the consumer has joined its group". */
export interface ReadinessCheck {
  /** Said in the 503 body when the check fails. */
  reason: string
  ok: () => boolean
}

export interface OperatorRoutes {
  registries: Registry[]
  /** Checked in order before `ping`: the first failing one is the reason given. */
  readiness?: ReadinessCheck[]
  /** The last readiness condition, asked only when the others hold (e.g. the warehouse answers a ping in time). */
  ping?: { reason: string; ok: () => Promise<boolean> }
}

/** What operators scrape and probe on every service: /healthz (alive), /readyz (able to do its work), /metrics (Prometheus). */
export function mountOperatorRoutes(app: Hono, routes: OperatorRoutes): Hono {
  const metrics = Registry.merge(routes.registries)
  app.get('/healthz', (c) => c.json({ ok: true }))
  app.get('/readyz', async (c) => {
    const failing = routes.readiness?.find((check) => !check.ok())
    if (failing) return c.json({ ready: false, reason: failing.reason }, 503)
    if (routes.ping && !(await routes.ping.ok())) return c.json({ ready: false, reason: routes.ping.reason }, 503)
    return c.json({ ready: true })
  })
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.contentType)
    return c.body(await metrics.metrics())
  })
  return app
}
