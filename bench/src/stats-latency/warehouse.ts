import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWarehouseClient, migrate } from '@atspark/warehouse'

/** The processor's warehouse client (a ClickHouseClient), named here so this package needs no client dependency of its own. */
export type Warehouse = ReturnType<typeof createWarehouseClient>

export interface FreshWarehouse {
  client: Warehouse
  dataDir: string
  /** Closes the engine and deletes the data directory. */
  dispose(): Promise<void>
}

/** A new chDB data directory under the system temp dir, migrated by the processor's own code. */
export async function freshWarehouse(): Promise<FreshWarehouse> {
  const dataDir = mkdtempSync(join(tmpdir(), 'atspark-stats-bench-'))
  const client = createWarehouseClient({ dataDir })
  await migrate(client)
  return {
    client,
    dataDir,
    dispose: async () => {
      await client.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
