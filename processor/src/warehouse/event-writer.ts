import { type EventRow, WAREHOUSE_DATABASE } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

export type WriteRows = (rows: readonly EventRow[], dedupToken?: string) => Promise<void>

/** Inserts rows into `events`; a dedup token makes a repeated insert of the same batch a no-op. */
export function eventWriter(client: ClickHouseClient): WriteRows {
  return async (rows, dedupToken) => {
    if (rows.length === 0) return
    await client.insert({
      table: `${WAREHOUSE_DATABASE}.events`,
      values: rows as EventRow[],
      format: 'JSONEachRow',
      clickhouse_settings: dedupToken ? { insert_deduplication_token: dedupToken } : {},
    })
  }
}
