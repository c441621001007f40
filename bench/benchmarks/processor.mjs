// The processor's enrichment + insert against the raw insert of the same rows, already serialized, into the same
// warehouse schema: each run a fresh process and a fresh chDB directory, alternating, medians of the runs.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runNodeJson } from '../lib/procs.mjs'
import { summaryRow, table } from '../lib/report.mjs'
import { int, median, pct, runs } from '../lib/stats.mjs'
import { pairedRatio } from './ingest.mjs'

const WORKER = fileURLToPath(new URL('../workers/processor-insert.mjs', import.meta.url))
const REPEATS = 4
/** The embedded writer's default batch (WRITE_BATCH_MAX_ROWS). */
const CHUNK_ROWS = 5_000

let runId = 0
/** One worker run; `profile` names a .cpuprofile to write for the timed part. */
export function processorRun(ctx, mode, { profile, envelopes = ctx.pick(600, 300), chunkRows = CHUNK_ROWS } = {}) {
  const cfg = { mode, profile, dataDir: join(ctx.tmp, `warehouse-${mode}-${++runId}`), envelopes, eventsPerEnvelope: 50, chunkRows, seed: 5, now: ctx.now }
  return runNodeJson(WORKER, { args: [JSON.stringify(cfg)], timeoutMs: 600_000 })
}

/** Raw insert rows/s of pre-serialized rows, measured once per run and shared (e2e-embedded's second ceiling). */
export async function rawInsertCeiling(ctx) {
  if (!ctx.memo.has('raw-insert')) {
    const out = []
    for (let i = 0; i < REPEATS; i++) out.push(await processorRun(ctx, 'raw'))
    ctx.memo.set('raw-insert', { rowsPerSecond: median(out.map((r) => r.rowsPerSecond)), runs: out })
  }
  return ctx.memo.get('raw-insert')
}

export default {
  name: 'processor',
  about: 'enrichment + insert of realistic rows vs the raw insert of the same rows pre-serialized (rows/s)',
  async run(ctx) {
    const out = { enrich: [], raw: [] }
    for (let i = 0; i < REPEATS; i++) {
      for (const mode of i % 2 ? ['raw', 'enrich'] : ['enrich', 'raw']) {
        const r = await processorRun(ctx, mode)
        out[mode].push(r)
        ctx.log(`  ${mode} run ${i + 1}: ${int(r.rowsPerSecond)} rows/s`)
      }
    }
    // Rows per insert decide much of the insert rate (every insert also feeds the rollup views): one run per size.
    const sweep = []
    for (const chunkRows of [500, 2_000, 5_000, 20_000]) sweep.push({ chunkRows, ...(await processorRun(ctx, 'raw', { envelopes: ctx.pick(400, 200), chunkRows })) })
    const measured = median(out.enrich.map((r) => r.rowsPerSecond))
    const ceiling = median(out.raw.map((r) => r.rowsPerSecond))
    ctx.memo.set('raw-insert', { rowsPerSecond: ceiling, runs: out.raw })
    const ratio = pairedRatio(
      out.enrich.map((r) => r.rowsPerSecond),
      out.raw.map((r) => r.rowsPerSecond),
    )
    const enrichShare = median(out.enrich.map((r) => r.enrichMs / (r.enrichMs + r.insertMs)))
    const enrichUsPerRow = median(out.enrich.map((r) => (r.enrichMs * 1000) / r.rows))
    const rows = out.enrich[0].rows
    return {
      summary: [
        summaryRow({
          benchmark: 'processor',
          measure: 'rows/s, enrich + insert',
          measured: int(measured),
          ceiling: `${int(ceiling)} (raw insert)`,
          ratio: pct(ratio),
          target: '≥ 60%',
          met: ratio >= 0.6,
          gap: `${pct(0.6 - ratio)} short; enrichment is ${pct(enrichShare)} of the time (${enrichUsPerRow.toFixed(1)} µs/row)`,
        }),
      ],
      markdown: [
        table(
          ['path', 'rows/s (median)', 'runs', 'enrichment share of time', 'enrichment µs/row'],
          [
            ['enrich (open IP, geo, truncate, UA, bot, pseudonym) + recordWriter insert', int(measured), runs(out.enrich.map((r) => r.rowsPerSecond)), pct(enrichShare), enrichUsPerRow.toFixed(1)],
            ['raw insert of the same rows, JSONEachRow pre-serialized', int(ceiling), runs(out.raw.map((r) => r.rowsPerSecond)), '—', '—'],
          ],
          ['l', 'r', 'r', 'r', 'r'],
        ),
        '',
        table(
          ['rows per insert (raw, one run each)', ...sweep.map((r) => int(r.chunkRows))],
          [['rows/s', ...sweep.map((r) => int(r.rowsPerSecond))]],
          ['l', ...sweep.map(() => 'r')],
        ),
        '',
        `${int(rows)} rows (${int(rows / 50)} envelopes of 50 events; ~5,000 visitors with a realistic UA mix incl. ~3% bots, 82% IPv4 / 18% IPv6 public addresses, 30% signed-in users) inserted ${int(CHUNK_ROWS)} rows per insert into a fresh chDB warehouse (rollup views included) per run; ${REPEATS} alternating runs per path, each its own process. Ratio: median over repeats of enrich/raw within the same repeat.`,
      ].join('\n'),
    }
  },
}
