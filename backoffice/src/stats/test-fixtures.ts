import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger, TenantDirectory, generateApiKey } from '@atspark/runtime'
import { type EventRow, exampleEventRow, type TenantsConfigInput, toWarehouseTime, WAREHOUSE_DATABASE } from '@atspark/schemas'
import { createWarehouseClient, migrate } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { createStatsApp } from './api.js'

/** Tests of the stats SQL on the real engine (chDB in process, one data directory per test file). */

export interface ChdbWarehouse {
  client: ClickHouseClient
  close(): Promise<void>
}

export async function openTestWarehouse(): Promise<ChdbWarehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'atspark-stats-'))
  const client = createWarehouseClient({ dataDir: dir })
  await migrate(client)
  return {
    client,
    close: async () => {
      await client.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let seq = 0
/** One event with plain defaults; `at` is epoch ms. */
export function event(org: string, site: string, at: number, fields: Partial<EventRow> = {}): EventRow {
  seq++
  const hex = seq.toString(16).padStart(12, '0')
  return exampleEventRow({ event_id: `00000000-0000-4000-8000-${hex}`, org_id: org, site_id: site, ts: toWarehouseTime(at), received_at: toWarehouseTime(at), ...fields })
}

const SOURCE = ['channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const

/**
 * The rows as the processor writes a batch: every event with a session carries its visit's source (channel and
 * utm_* of the visit's first event by ts, then event_id) and entry page (its first pageview's path, '' without one);
 * an event without a session keeps its own source and has no entry page.
 */
export function stampVisits(rows: readonly EventRow[]): EventRow[] {
  const byTime = [...rows].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0))
  const first = new Map<string, EventRow>()
  const entry = new Map<string, string>()
  const key = (e: EventRow) => `${e.org_id}\u0000${e.site_id}\u0000${e.session_id}`
  for (const e of byTime) {
    if (e.session_id === '') continue
    if (!first.has(key(e))) first.set(key(e), e)
    if (e.type === 'pageview' && !entry.has(key(e))) entry.set(key(e), e.url_path)
  }
  return rows.map((e) => {
    const visit = first.get(key(e))
    if (e.session_id === '' || visit === undefined) return { ...e, entry_page: '' }
    const source = Object.fromEntries(SOURCE.map((c) => [c, visit[c]]))
    return { ...e, ...source, entry_page: entry.get(key(e)) ?? '' }
  })
}

/** Inserts rows as one processor batch would write them (stampVisits). */
export async function insertEvents(client: ClickHouseClient, rows: readonly EventRow[]): Promise<void> {
  await client.insert({ table: `${WAREHOUSE_DATABASE}.events`, values: stampVisits(rows), format: 'JSONEachRow' })
}

/** Two orgs with the same site ids (`web`), so a query that forgets the org is caught. */
export function twoOrgTenants(goals: TenantsConfigInput['orgs'][number]['sites'][number]['goals'] = []) {
  const keys = { a: generateApiKey(), b: generateApiKey() }
  const site = (id: string, key: string) => ({ id, write_key: key, allowed_origins: ['https://x.example'], consent_mode: 'opt-in' as const, goals })
  const tenants = TenantDirectory.from({
    orgs: [
      { id: 'org-a', name: 'A', api_keys: [{ id: 'a-analyst', hash: keys.a.hash, role: 'analyst' }], sites: [site('web', 'pk_aaa')] },
      { id: 'org-b', name: 'B', api_keys: [{ id: 'b-analyst', hash: keys.b.hash, role: 'analyst' }], sites: [site('web', 'pk_bbb')] },
    ],
  })
  return { keys, tenants }
}

/** The stats app over a real warehouse; `get` sends org A's analyst key unless told otherwise. */
export function statsAppOn(client: ClickHouseClient, opts: { k: number; now: number; goals?: Parameters<typeof twoOrgTenants>[0] }) {
  const { keys, tenants } = twoOrgTenants(opts.goals)
  const logger = createLogger('stats-test', 'warn', { write: () => {} })
  const app = createStatsApp({ warehouse: client, tenants: () => tenants, logger, k: opts.k, now: () => opts.now })
  const get = async (path: string, key = keys.a.key) => {
    const res = await app.request(path, { headers: { authorization: `Bearer ${key}` } })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }
  return { app, keys, get }
}
