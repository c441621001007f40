import { edgeHeaders, mountOperatorRoutes, type ReadinessCheck } from '@atspark/runtime'
import { pingWithin } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { Hono } from 'hono'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { FailpointMode, type WarehouseFailpoint } from './failpoints.js'

/** A warehouse that does not answer a ping within this long is unreachable, as far as readiness goes. */
export const PING_TIMEOUT_MS = 2_000

const FailpointBody = z.strictObject({ mode: z.enum(Object.values(FailpointMode) as [FailpointMode, ...FailpointMode[]]) })

/** The test-only failpoint switch, mounted only when the process was started with ATSPARK_FAILPOINTS=1. */
export function failpointRoutes(failpoint: WarehouseFailpoint | undefined): Hono {
  const app = new Hono()
  if (!failpoint?.enabled) return app
  app.put('/_failpoints/warehouse-write', async (c) => {
    const body = FailpointBody.safeParse(await c.req.json().catch(() => undefined))
    if (!body.success) return c.json({ error: 'invalid_failpoint', message: 'body must be {"mode":"off"|"fail"|"stall"}' }, 400)
    failpoint.set(body.data.mode)
    return c.json({ mode: failpoint.mode })
  })
  return app
}

export interface OperatorAppDeps {
  warehouse: ClickHouseClient
  registries: Registry[]
  readiness: ReadinessCheck[]
  failpoint?: WarehouseFailpoint
}

/** The standalone processor's port: /healthz, /readyz (Kafka, the group, writes, then the warehouse ping), /metrics; nothing for analysts. */
export function createOperatorApp(deps: OperatorAppDeps): Hono {
  const app = new Hono()
  // No trusted proxy: HSTS only when served over TLS directly.
  app.use('*', edgeHeaders(() => false))
  mountOperatorRoutes(app, {
    registries: deps.registries,
    readiness: deps.readiness,
    ping: { reason: 'warehouse unreachable', ok: () => pingWithin(deps.warehouse, PING_TIMEOUT_MS) },
  })
  app.route('/', failpointRoutes(deps.failpoint))
  app.notFound((c) => c.json({ error: 'not_found', message: `${c.req.method} ${c.req.path} does not exist` }, 404))
  return app
}
