import { readFileSync, writeFileSync } from 'node:fs'
import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { machine } from './report.js'
import { DROP_SKIP_INDEXES, measureCandidates, SESSIONS_DDL, SESSIONS_FILL, SKIP_INDEXES, type StorageRow, storageTable } from './storage.js'
import type { Warehouse } from './warehouse.js'

const RESULTS = new URL('../../results/stats-latency.md', import.meta.url)
/** The results file's section this run writes into; the API run keeps everything from it on. */
export const STORAGE_SECTION = '## Storage choice'
const log = (line: string) => console.log(line)

/**
 * Times the storage candidates on the generated events and writes their table into the "Storage choice" section of
 * bench/results/stats-latency.md (the section's prose is kept: only the measured block between its markers is replaced).
 */
export async function compareStorage(
  client: Warehouse,
  o: { org: string; site: string; endDayMs: number; warmup: number; runs: number; loadAtStart: string; events: number },
): Promise<StorageRow[]> {
  const rows: StorageRow[] = []
  const common = { org: o.org, site: o.site, endDayMs: o.endDayMs, warmup: o.warmup, runs: o.runs }
  rows.push(...(await measureCandidates(client, { ...common, storages: ['raw, visit set by IN', 'raw, one scan per visit', 'stamped visit columns'] }, log)))

  const t = performance.now()
  await client.command({ query: SESSIONS_DDL })
  await client.command({ query: `TRUNCATE TABLE ${DB}.bench_sessions` })
  await client.command({ query: SESSIONS_FILL, clickhouse_settings: { max_insert_threads: '2' } })
  await client.command({ query: `OPTIMIZE TABLE ${DB}.bench_sessions FINAL` })
  const [size] = await (
    await client.query({
      query: `SELECT sum(rows) AS rows, sum(data_compressed_bytes) AS bytes FROM system.parts WHERE database = '${DB}' AND table = 'bench_sessions' AND active`,
      format: 'JSONEachRow',
    })
  ).json<{ rows: string; bytes: string }>()
  const sessionsLine = `bench_sessions: ${Number(size?.rows).toLocaleString('en-US')} rows, ${(Number(size?.bytes) / 1048576).toFixed(1)} MiB compressed, filled and merged in ${((performance.now() - t) / 1000).toFixed(1)} s`
  log(sessionsLine)
  rows.push(...(await measureCandidates(client, { ...common, storages: ['sessions table'] }, log)))
  await client.command({ query: `DROP TABLE IF EXISTS ${DB}.bench_sessions` })

  const ti = performance.now()
  for (const q of SKIP_INDEXES) await client.command({ query: q })
  const indexLine = `skip indexes (set on utm_campaign and country, bloom filter on url_path) added and materialized in ${((performance.now() - ti) / 1000).toFixed(1)} s`
  log(indexLine)
  try {
    rows.push(...(await measureCandidates(client, { ...common, storages: ['raw, one scan per visit'], label: 'raw + skip indexes' }, log)))
  } finally {
    for (const q of DROP_SKIP_INDEXES) await client.command({ query: q })
  }

  const block = [
    '<!-- storage-measured:begin (written by STATS_BENCH_PHASE=storage npm run bench:stats) -->',
    `Measured ${new Date().toISOString().slice(0, 16)}Z on ${o.events.toLocaleString('en-US')} events, site \`${o.site}\`, SQL straight on chDB ` +
      `(${o.warmup} warm-up, ${o.runs} timed runs each); load average ${o.loadAtStart} at start, ${machine().load} at end. ${sessionsLine}; ${indexLine}.`,
    '',
    storageTable(rows),
    '<!-- storage-measured:end -->',
  ].join('\n')
  const current = readFileSync(RESULTS, 'utf8')
  const begin = current.indexOf('<!-- storage-measured:begin')
  const end = current.indexOf('<!-- storage-measured:end -->')
  const next =
    begin >= 0 && end > begin
      ? current.slice(0, begin) + block + current.slice(end + '<!-- storage-measured:end -->'.length)
      : `${current.trimEnd()}\n\n${current.includes(STORAGE_SECTION) ? '' : `${STORAGE_SECTION}\n\n`}${block}\n`
  writeFileSync(RESULTS, next)
  log('written to the "Storage choice" section of bench/results/stats-latency.md')
  return rows
}
