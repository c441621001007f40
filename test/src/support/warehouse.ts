import { createWarehouseClient } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'

/** Opens the pipeline's chDB data dir once the pipeline has exited (one engine per directory at a time). */
export function openWarehouse(dataDir: string): ClickHouseClient {
  return createWarehouseClient({ dataDir })
}

export async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await client.query({ query, format: 'JSONEachRow' })
  return rs.json<T>()
}
