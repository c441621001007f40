import { type ClickHouseClient, type ClickHouseClientConfigOptions, createClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'

export interface WarehouseTarget {
  /** A ClickHouse server over HTTP; unset means the engine in process (chDB) under `dataDir`. */
  url?: string | undefined
  username?: string | undefined
  password?: string | undefined
  dataDir: string
}

/** Settings both backends share so the same SQL gives the same answers (chDB needs the quoting set). */
const SHARED_SETTINGS = {
  output_format_json_quote_64bit_integers: 1,
  date_time_input_format: 'best_effort',
  // Without it a repeated events insert, skipped by events' dedup window, still reaches the rollup views and counts twice.
  deduplicate_blocks_in_dependent_materialized_views: 1,
} as const

/** One `@clickhouse/client` for both backends: the SQL above it never knows which it has. */
export function createWarehouseClient(target: WarehouseTarget): ClickHouseClient {
  if (target.url) {
    return createClient({
      url: target.url,
      username: target.username ?? 'default',
      password: target.password ?? '',
      clickhouse_settings: SHARED_SETTINGS,
      request_timeout: 30_000,
    })
  }
  return createClient({
    // chdb types against @clickhouse/client-common, which the client now vendors: same shape, distinct declarations.
    connection: createChdbConnection({ path: target.dataDir }) as unknown as ClickHouseClientConfigOptions['connection'],
    clickhouse_settings: SHARED_SETTINGS,
  })
}

export function warehouseKind(target: WarehouseTarget): 'clickhouse' | 'chdb' {
  return target.url ? 'clickhouse' : 'chdb'
}

/** True when the warehouse answered a ping within `ms` (readiness must not hang on a dead server). */
export async function pingWithin(warehouse: ClickHouseClient, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([warehouse.ping().then((p) => p.success, () => false), late])
  } finally {
    clearTimeout(timer)
  }
}
