// `npm run bench [-- <name>…]`: runs the named benchmarks (all but `profile` when none is named), prints each one's
// table, and writes bench/results/latest.{md,json}. BENCH_QUICK=1 shortens every run for a smoke check (written to
// bench/results/quick.{md,json} instead).
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import dashboardRender from './benchmarks/dashboard-render.mjs'
import e2eEmbedded from './benchmarks/e2e-embedded.mjs'
import e2eKafka from './benchmarks/e2e-kafka.mjs'
import freshness from './benchmarks/freshness.mjs'
import { ingestBatch, ingestSingle } from './benchmarks/ingest.mjs'
import memory from './benchmarks/memory.mjs'
import processor from './benchmarks/processor.mjs'
import profile from './benchmarks/profile.mjs'
import sdkMainThread from './benchmarks/sdk-main-thread.mjs'
import sdkSize from './benchmarks/sdk-size.mjs'
import { startBroker } from './lib/kafka.mjs'
import { machineInfo } from './lib/machine.mjs'
import { summaryTable, writeLatest } from './lib/report.mjs'

/** In run order: ceilings measured by an earlier benchmark are reused by later ones in the same run. */
const BENCHMARKS = [sdkSize, sdkMainThread, ingestSingle, ingestBatch, processor, e2eEmbedded, e2eKafka, freshness, memory]
// Run only when named: profile is a diagnosis; dashboard-render needs the stats benchmark's generated warehouse.
const EXTRA = [profile, dashboardRender]
const byName = new Map([...BENCHMARKS, ...EXTRA].map((b) => [b.name, b]))

const args = process.argv.slice(2).filter((a) => a !== '--')
if (args.includes('--help') || args.includes('-h') || args.includes('list')) {
  console.log(['usage: npm run bench [-- <name>…]   (BENCH_QUICK=1 for short runs)', '', ...[...byName.values()].map((b) => `  ${b.name.padEnd(16)} ${b.about}`)].join('\n'))
  process.exit(0)
}
const unknown = args.filter((a) => !byName.has(a))
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${[...byName.keys()].join(', ')}`)
  process.exit(2)
}
const selected = args.length ? [...BENCHMARKS, ...EXTRA].filter((b) => args.includes(b.name)) : BENCHMARKS

const quick = process.env.BENCH_QUICK === '1'
const tmp = mkdtempSync(join(tmpdir(), 'atspark-bench-'))
let broker
const ctx = {
  quick,
  /** One clock for every body and envelope of the run, so a service and its ceiling get identical bytes. */
  now: Date.now(),
  tmp,
  /** Full-run or quick-run figure. */
  pick: (full, short) => (quick ? short : full),
  /** Ceilings and rates shared between benchmarks of this run (e.g. the bare route's events/s). */
  memo: new Map(),
  log: (msg) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`),
  /** The run's Kafka broker, started on first use (or KAFKA_BROKERS). */
  broker: async () => {
    broker ??= startBroker()
    return (await broker).brokers.join(',')
  },
}

const run = { date: new Date().toISOString(), quick, machine: machineInfo() }
const sections = []
let failed = 0
try {
  for (const b of selected) {
    const started = performance.now()
    ctx.log(`${b.name}: ${b.about}`)
    let section
    try {
      section = await b.run(ctx)
    } catch (err) {
      failed++
      ctx.log(`${b.name} failed: ${err.stack ?? err}`)
      section = { summary: [[b.name, 'run failed', '—', '—', '—', '—', `ERROR: ${String(err.message ?? err).split('\n')[0].slice(0, 200)}`]], markdown: `Failed:\n\n\`\`\`\n${String(err.stack ?? err).slice(0, 3000)}\n\`\`\`` }
    }
    const seconds = Math.round((performance.now() - started) / 1000)
    // The machine's 1-minute load average when the benchmark ended: how noisy its figures may be.
    sections.push({ name: b.name, seconds, load: loadavg()[0].toFixed(1), ...section })
    console.log(`\n## ${b.name} (${seconds} s)\n\n${section.markdown.trim()}\n\n${summaryTable(section.summary)}\n`)
    if (b !== profile) writeLatest([...BENCHMARKS, dashboardRender].map((x) => x.name), run, sections.filter((s) => s.name !== profile.name))
  }
} finally {
  if (broker) await (await broker.catch(() => undefined))?.stop()
  rmSync(tmp, { recursive: true, force: true })
}
const summarized = sections.filter((s) => s.name !== profile.name)
if (summarized.length) {
  console.log(`\n# Summary (${run.date}${quick ? ', quick' : ''})\n\n${summaryTable(summarized.flatMap((s) => s.summary))}\n`)
  console.log(`Written to bench/results/${quick ? 'quick' : 'latest'}.md`)
}
process.exit(failed ? 1 : 0)
