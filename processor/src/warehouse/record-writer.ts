import { type ConsentRow, type EventRow, WAREHOUSE_DATABASE } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

/** A row bound for one warehouse table; the processor's output, whatever the bus carried. */
export type WarehouseRecord = { table: 'events'; row: EventRow } | { table: 'consent_log'; row: ConsentRow }

export type WriteRecords = (records: readonly WarehouseRecord[], dedupToken?: string) => Promise<void>

/** Told of every table insert: which table, how long it took, whether it failed (insert latency metrics). */
export type InsertObserver = (table: WarehouseRecord['table'], seconds: number, ok: boolean) => void

/**
 * Inserts records one insert per table. A dedup token (suffixed per table, since ClickHouse
 * scopes it to a table anyway) makes a repeated insert of the same batch a no-op.
 */
export function recordWriter(client: ClickHouseClient, observe?: InsertObserver): WriteRecords {
  return async (records, dedupToken) => {
    const byTable = new Map<WarehouseRecord['table'], unknown[]>()
    for (const r of records) {
      const rows = byTable.get(r.table)
      if (rows) rows.push(r.row)
      else byTable.set(r.table, [r.row])
    }
    for (const [table, values] of byTable) {
      const started = performance.now()
      let ok = false
      try {
        await client.insert({
          table: `${WAREHOUSE_DATABASE}.${table}`,
          values,
          format: 'JSONEachRow',
          // Always set: chDB keeps a query's settings for later ones, so an absent token could inherit the last batch's.
          clickhouse_settings: { insert_deduplication_token: dedupToken ? `${dedupToken}:${table}` : '' },
        })
        ok = true
      } finally {
        observe?.(table, (performance.now() - started) / 1000, ok)
      }
    }
  }
}
