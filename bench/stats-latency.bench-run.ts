// Stats API latency over generated events: rollup path against raw path, p50/p95 with the data size.
// Run: npm run bench:stats (builds first). STATS_BENCH_EVENTS (default 10,000,000), STATS_BENCH_RUNS (20),
// STATS_BENCH_WARMUP (2) and STATS_BENCH_CHUNK (2,500,000 events per INSERT) change the run; a small count tests the harness.
// The data directory is kept (STATS_BENCH_DATA_DIR, default <tmp>/atspark-stats-bench-<events>) and reused while its
// generation matches; STATS_BENCH_FRESH=1 generates into a new directory deleted afterwards.
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'vitest'
import { summarizeAnswer } from './src/stats-latency/answers.js'
import { BENCH_GOALS, filteredCases, type Run, runsOf, statsCases } from './src/stats-latency/cases.js'
import { insertLiveEvents, removeLiveEvents } from './src/stats-latency/live.js'
import { compareTimeseries } from './src/stats-latency/consistency.js'
import { generate } from './src/stats-latency/generate.js'
import { dimensionTable, type LatencyRow, latencyTable, machine, markdown, profileLine, sizeTable, targetTable } from './src/stats-latency/report.js'
import { recordingClient, rowsRead, startStatsServer } from './src/stats-latency/server.js'
import { dimensionRows, tableSizes } from './src/stats-latency/sizes.js'
import { getJson, percentile, timeRequests } from './src/stats-latency/timing.js'
import { profileData, verifyRollups, verifyVisitColumns } from './src/stats-latency/verify.js'
import { compareStorage, STORAGE_SECTION } from './src/stats-latency/storage-run.js'
import { freshWarehouse, readMeta, writeMeta } from './src/stats-latency/warehouse.js'

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw.replace(/[_,]/g, ''))
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`)
  return n
}

const EVENTS = positiveInt('STATS_BENCH_EVENTS', 10_000_000)
const RUNS = positiveInt('STATS_BENCH_RUNS', 20)
const WARMUP = positiveInt('STATS_BENCH_WARMUP', 2)
const CHUNK = positiveInt('STATS_BENCH_CHUNK', 2_500_000)
const DAYS = 90
const ORG = 'bench-org'
const SITES = { web: 'web', app: 'app' }
/** The most adopted feature of the demo's list, so its buckets clear k. */
const FEATURE = 'sql_editor'
const K = 5
/** STATS_BENCH_ONLY_FILTERED=1 times issue 15's filtered cases only (the unfiltered baseline's table is left empty). */
const SKIP_BASELINE = process.env.STATS_BENCH_ONLY_FILTERED === '1'
/** Bumped when the generator's output changes, so a kept directory of an older shape is regenerated. */
const GENERATOR_VERSION = 4
const KEEP_DIR = process.env.STATS_BENCH_FRESH === '1' ? undefined : (process.env.STATS_BENCH_DATA_DIR || join(tmpdir(), `atspark-stats-bench-${EVENTS}`))
/** `generate` stops once the data is ready (and checked); `storage` times candidate SQL (bench/results' "Storage choice"); `api` (default) times the stats API. */
const PHASE = process.env.STATS_BENCH_PHASE ?? 'api'
const RESULTS = new URL('./results/stats-latency.md', import.meta.url)

const log = (line: string) => console.log(line)

it('times every stats endpoint over generated events', async () => {
  const loadAtStart = machine().load
  // Data ends at today's UTC midnight: every range below is whole days the rollups and the raw table both hold.
  const kept = KEEP_DIR ? readMeta(KEEP_DIR) : undefined
  const reuse = kept !== undefined && kept.events === EVENTS && kept.days === DAYS && kept.generator === GENERATOR_VERSION
  if (KEEP_DIR && kept && !reuse) {
    throw new Error(`${KEEP_DIR} holds another generation (${JSON.stringify(kept)}): delete it or set STATS_BENCH_DATA_DIR`)
  }
  // The meta file is written once the data passed its checks: a directory without it holds a cut-short or failed generation.
  if (KEEP_DIR && !kept && existsSync(KEEP_DIR) && readdirSync(KEEP_DIR).length > 0) {
    throw new Error(`${KEEP_DIR} holds a generation that did not finish or failed its checks: delete it or set STATS_BENCH_DATA_DIR`)
  }
  const endDayMs = reuse ? kept.endDayMs : Math.floor(Date.now() / 86_400_000) * 86_400_000
  const warehouse = await freshWarehouse(KEEP_DIR)
  try {
    const { client } = warehouse
    const [engine] = await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>()
    log(`\nstats latency: ${EVENTS.toLocaleString('en-US')} events over ${DAYS} days into chDB ${engine?.v} at ${warehouse.dataDir}`)

    const gen = reuse
      ? kept
      : await generate(client, { org: ORG, sites: SITES, events: EVENTS, endDayMs, days: DAYS, chunkEvents: CHUNK }, log)
    log(`${reuse ? 'reused: generated' : 'generated'} in ${gen.insertSeconds.toFixed(1)} s (views included), merged in ${gen.mergeSeconds.toFixed(1)} s`)
    // A run that stopped early leaves its copies into "now" behind (realtime below): the checks need the data as generated.
    await removeLiveEvents(client, { org: ORG })
    // A kept directory was checked when it was generated; a new one is kept only once it passes.
    let days = DAYS + 1
    if (!reuse) {
      days = (await verifyRollups(client, ORG, gen.events)).days
      const visits = await verifyVisitColumns(client, ORG)
      log(`checked: all ${visits.toLocaleString('en-US')} visits' events agree on channel, utm_* and entry_page, and each entry_page is the visit's first pageview's path`)
      if (KEEP_DIR) writeMeta(KEEP_DIR, { ...gen, days: DAYS, endDayMs, generator: GENERATOR_VERSION })
    }
    if (PHASE === 'storage') {
      await compareStorage(client, { org: ORG, site: SITES.web, endDayMs, warmup: WARMUP, runs: RUNS, loadAtStart, events: gen.events })
      return
    }
    const profile = await profileData(client, ORG, { events: (reuse ? kept.present : undefined) ?? gen.events, receipts: gen.receipts, days: DAYS })
    log(`checked: rollups equal raw events on all ${days} UTC days with events; ${profileLine(profile)}`)
    const sizes = await tableSizes(client)
    const dimensions = await dimensionRows(client)
    log(`\n${sizeTable(sizes, gen.events)}\n\n${dimensionTable(dimensions, gen.events)}\n`)

    if (PHASE === 'generate') return

    const recorder = recordingClient(client)
    const server = await startStatsServer(recorder.client, { org: ORG, sites: [SITES.web, SITES.app], k: K, goals: [...BENCH_GOALS] })
    try {
      const cases = statsCases({ endDayMs, ...SITES, feature: FEATURE })
      if (!SKIP_BASELINE) {
        // Same answer first, then speed: the 30-day and hourly series agree across both paths.
        for (const c of cases.filter((c) => c.endpoint === 'timeseries')) await compareTimeseries(server.url, server.key, c.query)
        log('checked: rollup and raw timeseries agree (events and pageviews exact, visitors within 2 %)')
      }

      const timeRun = async (run: Run, target?: number): Promise<LatencyRow> => {
        const url = `${server.url}${run.path}`
        // The first warm-up request is recorded: its queries, replayed with FORMAT JSON, tell the rows one request reads.
        const { result: first, queries } = await recorder.record(() => getJson(url, server.key))
        const answer = summarizeAnswer(run.case.endpoint, first, K)
        const read = await rowsRead(client, queries)
        // STATS_BENCH_DUMP=<file> appends each case's SQL and parameters (one JSON line a case), to profile a query by hand.
        if (process.env.STATS_BENCH_DUMP) appendFileSync(process.env.STATS_BENCH_DUMP, `${JSON.stringify({ label: run.case.label, endpoint: run.case.endpoint, queries })}\n`)
        const timed = await timeRequests(url, server.key, WARMUP - 1, RUNS)
        const row: LatencyRow = {
          endpoint: run.case.endpoint,
          label: run.case.label,
          source: run.source,
          readFrom: String(timed.body.source ?? '—'),
          answer,
          p50: percentile(timed.samples, 0.5),
          p95: percentile(timed.samples, 0.95),
          cpu50: percentile(timed.cpu, 0.5),
          ...(target ? { target } : {}),
          runs: timed.samples.length,
          rowsRead: read.rows,
          bytesRead: read.bytes,
          byTable: read.byTable,
        }
        log(
          `  /${row.endpoint} ${row.label} [${row.source ?? '-'} → ${row.readFrom}] ${row.answer}: p50 ${row.p50.toFixed(1)} ms, p95 ${row.p95.toFixed(1)} ms${target ? ` (target ${target})` : ''}, CPU ${row.cpu50.toFixed(0)} ms, ${row.rowsRead} rows read`,
        )
        return row
      }

      const filtered: LatencyRow[] = []
      // STATS_BENCH_MATCH=<text> times only the filtered cases whose label contains it (a quick before/after of a few cases).
      const match = process.env.STATS_BENCH_MATCH
      for (const run of runsOf(filteredCases({ endDayMs, ...SITES, feature: FEATURE })).filter((r) => !match || r.case.label.includes(match))) {
        const target = run.case.label.endsWith('90 days') ? 600 : run.case.label.endsWith('30 days') ? 300 : undefined
        if (run.case.endpoint === 'realtime') {
          // Copied just before the realtime cases, so their last 5 minutes hold events however long the others took.
          const live = await insertLiveEvents(client, { org: ORG, site: SITES.web, endDayMs })
          log(`realtime: ${live.toLocaleString('en-US')} events of an earlier day's same half hour copied into the last 30 minutes`)
        }
        try {
          filtered.push(await timeRun(run, target))
        } catch (err) {
          // A failed case (a 503 timeout, an empty answer) is a finding to report, not a reason to stop timing the others.
          const why = String((err as Error).message ?? err).slice(0, 160)
          log(`  /${run.case.endpoint} ${run.case.label}: FAILED ${why}`)
          filtered.push({ endpoint: run.case.endpoint, label: run.case.label, source: run.source, readFrom: '—', answer: `FAILED: ${why}`, p50: Number.NaN, p95: Number.NaN, cpu50: Number.NaN, ...(target ? { target } : {}), runs: 0, rowsRead: 0, bytesRead: 0, byTable: new Map() })
        }
      }
      log(`\n${targetTable(filtered)}\n`)
      const latency: LatencyRow[] = []
      if (!SKIP_BASELINE) for (const run of runsOf(cases)) latency.push(await timeRun(run))
      log(`\n${latencyTable(latency)}\n`)
      const report = markdown({
        engine: `chDB ${engine?.v}`,
        events: gen.events,
        days: DAYS,
        receipts: gen.receipts,
        chunks: Math.ceil(gen.events / CHUNK),
        insertSeconds: gen.insertSeconds,
        mergeSeconds: gen.mergeSeconds,
        profile,
        sizes,
        dimensions,
        latency,
        filtered,
        warmup: WARMUP,
        loadAtStart,
        loadAtEnd: machine().load,
      })
      mkdirSync(new URL('.', RESULTS), { recursive: true })
      // The "Storage choice" section (STATS_BENCH_PHASE=storage and its prose) is kept across runs.
      const previous = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : ''
      const storage = previous.indexOf(STORAGE_SECTION)
      writeFileSync(RESULTS, storage >= 0 ? `${report.trimEnd()}\n\n${previous.slice(storage)}` : report)
      log(`written to bench/results/stats-latency.md`)
      await removeLiveEvents(client, { org: ORG })
    } finally {
      await server.close()
    }
  } finally {
    await warehouse.dispose()
  }
})
