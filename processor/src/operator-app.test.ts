import type { ClickHouseClient } from '@clickhouse/client'
import { Counter, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { WarehouseFailpoint } from './failpoints.js'
import { createOperatorApp } from './operator-app.js'

// The standalone processor's port is for operators: health, readiness and metrics, with the edge's protective
// headers on every answer, the failpoint switch only when enabled, and nothing for analysts.

const warehouse = (up: boolean) => ({ ping: async () => ({ success: up }) }) as unknown as ClickHouseClient

function app(options: { up?: boolean; ready?: boolean[]; failpoint?: WarehouseFailpoint } = {}) {
  const registry = new Registry()
  new Counter({ name: 'atspark_processor_rows_written_total', help: 'rows', registers: [registry] }).inc(3)
  const ready = options.ready ?? [true, true]
  return createOperatorApp({
    warehouse: warehouse(options.up ?? true),
    registries: [registry],
    readiness: [
      { reason: 'kafka unreachable', ok: () => ready[0] ?? true },
      { reason: 'not consuming', ok: () => ready[1] ?? true },
    ],
    ...(options.failpoint ? { failpoint: options.failpoint } : {}),
  })
}

describe('the processor’s operator app', () => {
  it('answers /healthz, /readyz and /metrics, each with the protective headers', async () => {
    const a = app()
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await a.request(path)
      expect({ path, status: res.status }).toEqual({ path, status: 200 })
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    }
    expect(await (await a.request('/metrics')).text()).toContain('atspark_processor_rows_written_total 3')
  })

  it('is not ready for the first failing check, in order, and then for a warehouse that does not answer', async () => {
    expect(await (await app({ ready: [false, false] }).request('/readyz')).json()).toEqual({ ready: false, reason: 'kafka unreachable' })
    expect(await (await app({ ready: [true, false] }).request('/readyz')).json()).toEqual({ ready: false, reason: 'not consuming' })
    const down = await app({ up: false }).request('/readyz')
    expect(down.status).toBe(503)
    expect(await down.json()).toEqual({ ready: false, reason: 'warehouse unreachable' })
  })

  it('serves no analyst route, and the failpoint switch only when failpoints are enabled', async () => {
    for (const path of ['/v1/stats/sites', '/v1/privacy/requests', '/dashboard', '/openapi.json']) {
      const res = await app().request(path)
      expect({ path, status: res.status }).toEqual({ path, status: 404 })
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
    const put = (body: string) => ({ method: 'PUT', headers: { 'content-type': 'application/json' }, body })
    expect((await app({ failpoint: new WarehouseFailpoint(false) }).request('/_failpoints/warehouse-write', put('{"mode":"fail"}'))).status).toBe(404)
    const failpoint = new WarehouseFailpoint(true)
    const enabled = app({ failpoint })
    expect((await enabled.request('/_failpoints/warehouse-write', put('{}'))).status).toBe(400)
    expect(await (await enabled.request('/_failpoints/warehouse-write', put('{"mode":"fail"}'))).json()).toEqual({ mode: 'fail' })
    expect(failpoint.mode).toBe('fail')
  })
})
