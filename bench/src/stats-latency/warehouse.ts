import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { createWarehouseClient, migrate } from '@atspark/warehouse'

/** The processor's warehouse client (a ClickHouseClient), named here so this package needs no client dependency of its own. */
export type Warehouse = ReturnType<typeof createWarehouseClient>

export interface FreshWarehouse {
  client: Warehouse
  dataDir: string
  /** Closes the engine; deletes the data directory unless it is a kept one. */
  dispose(): Promise<void>
}

/**
 * The attribution columns of migration 10 and the entry_page of migration 12 (the contracts' DDL), added idempotently so
 * the bench measures them whether or not the migrations have landed; once they have, this is a no-op.
 */
const ATTRIBUTION_COLUMNS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'channel', 'entry_page'] as const

export async function ensureAttributionColumns(client: Warehouse): Promise<void> {
  const adds = ATTRIBUTION_COLUMNS.map((c) => `ADD COLUMN IF NOT EXISTS ${c} LowCardinality(String) DEFAULT ''`).join(', ')
  await client.command({ query: `ALTER TABLE ${DB}.events ${adds}` })
}

/**
 * A chDB data directory migrated by the processor's own code: a new one under the system temp dir,
 * or `keepDir` (created if missing, never deleted) so 10 million events are generated once and reused.
 */
export async function freshWarehouse(keepDir?: string): Promise<FreshWarehouse> {
  const dataDir = keepDir ?? mkdtempSync(join(tmpdir(), 'atspark-stats-bench-'))
  if (keepDir) mkdirSync(keepDir, { recursive: true })
  const client = createWarehouseClient({ dataDir })
  await migrate(client)
  await ensureAttributionColumns(client)
  return {
    client,
    dataDir,
    dispose: async () => {
      await client.close()
      if (!keepDir) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** What a kept directory holds: the generation's parameters and figures, so a rerun reuses it only when they match. */
export interface GeneratedMeta {
  events: number
  days: number
  endDayMs: number
  receipts: number
  insertSeconds: number
  mergeSeconds: number
  generator: number
  /** Events present when fewer than generated: 272 events past the last midnight were lost to an early clean-up of the realtime copies. */
  present?: number
}

const META = 'atspark-bench-meta.json'

export function readMeta(dataDir: string): GeneratedMeta | undefined {
  const file = join(dataDir, META)
  if (!existsSync(file)) return undefined
  return JSON.parse(readFileSync(file, 'utf8')) as GeneratedMeta
}

export function writeMeta(dataDir: string, meta: GeneratedMeta): void {
  writeFileSync(join(dataDir, META), JSON.stringify(meta, null, 2))
}
