import { ROLLUP_TABLES } from '@atspark/warehouse'
import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { Warehouse } from './warehouse.js'

export interface TableSize {
  table: string
  rows: number
  parts: number
  compressed: number
  uncompressed: number
}

const TABLES = ['events', ...Object.keys(ROLLUP_TABLES), 'consent_log'] as const

/** Rows and bytes of the tables the stats API reads, from the active parts. */
export async function tableSizes(client: Warehouse): Promise<TableSize[]> {
  const rs = await client.query({
    query: `SELECT table, sum(rows) AS rows, count() AS parts, sum(data_compressed_bytes) AS compressed, sum(data_uncompressed_bytes) AS uncompressed
FROM system.parts WHERE database = {db:String} AND active AND table IN {tables:Array(String)} GROUP BY table`,
    query_params: { db: DB, tables: TABLES },
    format: 'JSONEachRow',
  })
  const found = new Map((await rs.json<Record<string, string>>()).map((r) => [r.table, r]))
  return TABLES.map((table) => {
    const r = found.get(table)
    return { table, rows: Number(r?.rows ?? 0), parts: Number(r?.parts ?? 0), compressed: Number(r?.compressed ?? 0), uncompressed: Number(r?.uncompressed ?? 0) }
  })
}

export function mib(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1)
}

export interface DimensionRows {
  /** '' is the totals pseudo-dimension. */
  dimension: string
  /** Rows per rollup table, merged (counted after OPTIMIZE … FINAL). */
  rows: Record<string, number>
}

/** Rows each dimension holds in each rollup: what a read of that dimension scans at most. */
export async function dimensionRows(client: Warehouse): Promise<DimensionRows[]> {
  const out = new Map<string, Record<string, number>>()
  for (const table of Object.keys(ROLLUP_TABLES)) {
    const rs = await client.query({ query: `SELECT toString(dimension) AS dimension, count() AS n FROM ${DB}.${table} GROUP BY dimension ORDER BY dimension`, format: 'JSONEachRow' })
    for (const r of await rs.json<{ dimension: string; n: string }>()) out.set(r.dimension, { ...out.get(r.dimension), [table]: Number(r.n) })
  }
  return [...out].map(([dimension, rows]) => ({ dimension, rows }))
}
