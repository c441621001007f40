import { Readable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { type ConsentRow, type EventRow, WAREHOUSE_DATABASE } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

/** A row bound for one warehouse table; the processor's output, whatever the bus carried. */
export type WarehouseRecord = { table: 'events'; row: EventRow } | { table: 'consent_log'; row: ConsentRow }

export type WriteRecords = (records: readonly WarehouseRecord[], dedupToken?: string) => Promise<void>

/** Told of every table insert: which table, how long it took, whether it failed (insert latency metrics). */
export type InsertObserver = (table: WarehouseRecord['table'], seconds: number, ok: boolean) => void

/**
 * An insert body in JSONEachRow: one native JSON.stringify of the whole array, which ClickHouse's
 * JSONEachRow input accepts as `[{…},{…}]`. Measured 1.5–3× cheaper than the client's one
 * stringify per row plus join, and one string instead of one per row for the GC.
 */
export function jsonEachRowBody(rows: readonly object[]): string {
  return JSON.stringify(rows)
}

/**
 * Inserts records one insert per table. A dedup token (suffixed per table, since ClickHouse
 * scopes it to a table anyway) makes a repeated insert of the same batch a no-op.
 */
export function recordWriter(client: ClickHouseClient, observe?: InsertObserver): WriteRecords {
  return async (records, dedupToken) => {
    const byTable = new Map<WarehouseRecord['table'], object[]>()
    for (const r of records) {
      const rows = byTable.get(r.table)
      if (rows) rows.push(r.row)
      else byTable.set(r.table, [r.row])
    }
    for (const [table, rows] of byTable) {
      const started = performance.now()
      let ok = false
      try {
        // exec with a byte stream: the body goes out as serialized here, on chDB and over HTTP alike.
        const result = await client.exec({
          query: `INSERT INTO ${WAREHOUSE_DATABASE}.${table} FORMAT JSONEachRow`,
          // utf8 keeps the chunk a string: chDB takes it without a Buffer round trip, HTTP writes it as is.
          values: Readable.from([jsonEachRowBody(rows)], { objectMode: false, encoding: 'utf8' }),
          // Always set: chDB keeps a query's settings for later ones, so an absent token could inherit the last batch's.
          clickhouse_settings: { insert_deduplication_token: dedupToken ? `${dedupToken}:${table}` : '' },
        })
        // An INSERT answers with an empty body; reading it to the end frees the HTTP socket for reuse.
        result.stream.resume()
        await finished(result.stream)
        ok = true
      } finally {
        observe?.(table, (performance.now() - started) / 1000, ok)
      }
    }
  }
}
