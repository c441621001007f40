import type { Logger } from '@atspark/runtime'
import type { ClickHouseClient } from '@clickhouse/client'
import { createWarehouseClient, warehouseKind } from './client.js'
import { type DataDirCheck, privateDataDir } from './data-dir.js'
import { type WarehouseEnv, warehouseTarget } from './env.js'
import { migrate } from './migrations.js'

/** Whether this process writes into the data dir: chDB keeps its files there, and so does a generated pseudonym key. */
export function writesDataDir(env: WarehouseEnv): boolean {
  return !env.CLICKHOUSE_URL || !env.ATSPARK_HMAC_SECRET
}

/** Makes the data dir private before anything writes there (data-dir.ts), handing a wider directory's warning to `warn`. */
export function securePrivateDataDir(dir: string, warn: (check: DataDirCheck & { warning: string }) => void): void {
  const check = privateDataDir(dir)
  if (check.warning) warn(check as DataDirCheck & { warning: string })
}

/** The data dir's warning as a service logs it: one line naming the path and the mode. */
export const logDataDirWarning =
  (logger: Logger) =>
  (check: DataDirCheck & { warning: string }): void =>
    logger.warn({ path: check.path, mode: check.mode.toString(8) }, check.warning)

/**
 * A service's warehouse: the data dir made private first when `privateDir` (before chDB, the pseudonym key
 * or the IP keys write there), then opened and migrated (idempotent: whichever service starts first migrates).
 */
export async function openServiceWarehouse(env: WarehouseEnv, logger: Logger, privateDir: boolean): Promise<ClickHouseClient> {
  if (privateDir) securePrivateDataDir(env.ATSPARK_DATA_DIR, logDataDirWarning(logger))
  const target = warehouseTarget(env)
  const warehouse = createWarehouseClient(target)
  const migration = await migrate(warehouse)
  logger.info({ warehouse: warehouseKind(target), applied: migration.applied, version: migration.current }, 'warehouse migrated')
  return warehouse
}
