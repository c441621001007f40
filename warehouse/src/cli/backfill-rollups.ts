import { WAREHOUSE_DATABASE } from '@atspark/schemas'
import { parseWarehouseEnv, warehouseTarget } from '../env.js'
import { createWarehouseClient, warehouseKind } from '../client.js'
import { securePrivateDataDir } from '../open.js'
import { migrate } from '../migrations.js'
import { type BackfillArgs, backfillRollups, parseBackfillArgs } from '../rollups.js'

// `node warehouse/dist/cli/backfill-rollups.js [--from YYYY-MM-DD] [--to YYYY-MM-DD]` (or `npm run backfill -- …`):
// rebuilds the hourly and daily rollups (rollup_dims_hourly, rollup_dims_daily) of those UTC days from atspark.events;
// running it again changes nothing. Run it once after migration 8: its new tables start empty.
// On chDB, stop the pipeline first: one process at a time may open a data directory.
let args: BackfillArgs
try {
  args = parseBackfillArgs(process.argv.slice(2))
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}
const env = parseWarehouseEnv()
// chDB writes into the data dir even to read: its files stay private, and a wider directory is named.
if (!env.CLICKHOUSE_URL) securePrivateDataDir(env.ATSPARK_DATA_DIR, (check) => console.error(`warning: ${check.warning}`))
const target = warehouseTarget(env)
const client = createWarehouseClient(target)
try {
  // The rollup tables may not exist yet on a warehouse last started before migration 8.
  await migrate(client)
  const result = await backfillRollups(client, args)
  const where = warehouseKind(target) === 'chdb' ? `chDB in ${env.ATSPARK_DATA_DIR}` : env.CLICKHOUSE_URL
  if (result.sites.length === 0) {
    console.log(`no events in ${WAREHOUSE_DATABASE}.events for that range (${where}): nothing to backfill`)
  } else {
    console.log(`rebuilt rollups for ${result.from} .. ${result.to} (${where})`)
    for (const s of result.sites) console.log(`  ${s.org_id}/${s.site_id} from ${s.from}`)
    for (const [table, n] of Object.entries(result.written)) console.log(`  ${table}: ${n} rows written`)
  }
} finally {
  await client.close()
}
