import { WAREHOUSE_DATABASE } from '@atspark/schemas'
import { parseWarehouseEnv, warehouseTarget } from '../env.js'
import { createWarehouseClient, warehouseKind } from '../client.js'
import { securePrivateDataDir } from '../open.js'
import { retentionReport } from '../retention.js'

// `node warehouse/dist/cli/retention.js [--json]` (or `npm run retention`): each table's TTL and oldest row.
// On chDB, stop the pipeline first: one process at a time may open a data directory.
const env = parseWarehouseEnv()
// chDB writes into the data dir even to read: its files stay private, and a wider directory is named.
if (!env.CLICKHOUSE_URL) securePrivateDataDir(env.ATSPARK_DATA_DIR, (check) => console.error(`warning: ${check.warning}`))
const target = warehouseTarget(env)
const client = createWarehouseClient(target)
try {
  const report = await retentionReport(client)
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report, null, 2))
  } else if (report.length === 0) {
    console.log(`no tables in ${WAREHOUSE_DATABASE} (${warehouseKind(target) === 'chdb' ? `chDB in ${env.ATSPARK_DATA_DIR}` : env.CLICKHOUSE_URL}): start the pipeline once to migrate`)
  } else {
    const header = ['table', 'rows', 'oldest row', 'TTL']
    const lines = report.map((t) => [t.table, String(t.rows), t.oldest ? `${t.oldest} (${t.time_column})` : '-', t.ttl || 'none'])
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
    for (const line of [header, ...lines]) console.log(line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
  }
} finally {
  await client.close()
}
