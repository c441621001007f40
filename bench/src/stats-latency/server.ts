import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, listen, TenantDirectory } from '@atspark/runtime'
import { createBackofficeApp } from '@atspark/backoffice'
import { Registry } from 'prom-client'
import type { Warehouse } from './warehouse.js'

export interface RecordedQuery {
  query: string
  query_params?: Record<string, unknown>
}

/**
 * The warehouse client the back office gets, unchanged except that, while `recording`, it notes
 * each query it is asked to run: replayed afterwards with FORMAT JSON they tell how many rows a
 * request read (chDB has no query_log).
 */
export function recordingClient(client: Warehouse): { client: Warehouse; record<T>(fn: () => Promise<T>): Promise<{ result: T; queries: RecordedQuery[] }> } {
  let log: RecordedQuery[] | undefined
  const proxied = new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'query') {
        return (params: RecordedQuery & Record<string, unknown>) => {
          log?.push({ query: params.query, ...(params.query_params ? { query_params: params.query_params } : {}) })
          return target.query(params as Parameters<Warehouse['query']>[0])
        }
      }
      const value = Reflect.get(target, prop, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return {
    client: proxied,
    async record(fn) {
      log = []
      try {
        const result = await fn()
        return { result, queries: log }
      } finally {
        log = undefined
      }
    },
  }
}

export interface ReadStats {
  rows: number
  bytes: number
  /** Rows read per table a query reads (named by its first FROM), e.g. a rollup and `events` for a timeseries' bounce rate. */
  byTable: Map<string, number>
}

/** Rows and bytes the queries read, from ClickHouse's own statistics (FORMAT JSON). */
export async function rowsRead(client: Warehouse, queries: readonly RecordedQuery[]): Promise<ReadStats> {
  const stats: ReadStats = { rows: 0, bytes: 0, byTable: new Map() }
  for (const q of queries) {
    const body = await (await client.query({ query: q.query, query_params: q.query_params ?? {}, format: 'JSON' })).json()
    const rows = Number(body.statistics?.rows_read ?? 0)
    const table = /\bFROM\s+[\w]+\.(\w+)/.exec(q.query)?.[1] ?? '?'
    stats.rows += rows
    stats.bytes += Number(body.statistics?.bytes_read ?? 0)
    stats.byTable.set(table, (stats.byTable.get(table) ?? 0) + rows)
  }
  return stats
}

export interface StatsServer {
  url: string
  /** The analyst key (bearer) for the org. */
  key: string
  close(): Promise<void>
}

/** The real back office with the stats API on loopback, for one org with an analyst key, from a generated tenants file. */
export async function startStatsServer(
  client: Warehouse,
  o: { org: string; sites: readonly string[]; k: number; goals?: readonly Record<string, string>[] },
): Promise<StatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'atspark-stats-bench-tenants-'))
  const key = `sk_${randomBytes(32).toString('base64url')}`
  const file = join(dir, 'tenants.json')
  const tenants = {
    orgs: [
      {
        id: o.org,
        name: 'Stats benchmark',
        api_keys: [{ id: 'bench-analyst', hash: createHash('sha256').update(key).digest('hex'), role: 'analyst' }],
        sites: o.sites.map((id) => ({ id, write_key: `pk_bench_${id.replace(/-/g, '_')}`, allowed_origins: ['http://localhost:3990'], consent_mode: 'opt-out', ...(o.goals ? { goals: o.goals } : {}) })),
      },
    ],
  }
  writeFileSync(file, JSON.stringify(tenants))
  const directory = await TenantDirectory.load(file)
  const app = createBackofficeApp({
    warehouse: client,
    registries: [new Registry()],
    stats: { warehouse: client, tenants: () => directory, logger: createLogger('stats-bench', 'warn'), k: o.k },
  })
  const server = await listen(app, 0, '127.0.0.1')
  return {
    url: `http://127.0.0.1:${server.port}`,
    key,
    close: async () => {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
