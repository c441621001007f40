// End to end on `npm start`'s process (ingest → embedded bus → processor → chDB): sustained events/s at full load
// against the slower of the two ceilings (bare route events/s, raw insert rows/s), then ingest's p99 at 70% of it.
import { join } from 'node:path'
import { runLoad } from '../lib/load.mjs'
import { sampleRss } from '../lib/procs.mjs'
import { startEmbedded } from '../lib/services.mjs'
import { summaryRow, table } from '../lib/report.mjs'
import { fixed, int, median, pct, runs } from '../lib/stats.mjs'
import { bareBatchCeiling, batchSpec } from './ingest.mjs'
import { rawInsertCeiling } from './processor.mjs'

const REPEATS = 3
/** Enough concurrent senders for the group-commit writer to form large inserts. */
const CONNECTIONS = 32

export default {
  name: 'e2e-embedded',
  about: 'embedded pipeline: sustained events/s vs min(bare route, raw insert), and ingest p99 at 70% of it',
  async run(ctx) {
    const bare = await bareBatchCeiling(ctx)
    const raw = await rawInsertCeiling(ctx)
    const ceiling = Math.min(bare.eventsPerSecond, raw.rowsPerSecond)
    const ceilingName = bare.eventsPerSecond <= raw.rowsPerSecond ? 'bare route' : 'raw insert'
    const pipeline = await startEmbedded(join(ctx.tmp, 'e2e-embedded'))
    const url = `${pipeline.ingestUrl}/v1/batch`
    const spec = batchSpec(ctx, 31)
    const seconds = ctx.pick(6, 3)
    const full = []
    const paced = []
    const rss = sampleRss(pipeline.service.pid, 500)
    try {
      for (let i = 0; i < REPEATS; i++) {
        const r = await runLoad({ url, spec, connections: CONNECTIONS, seconds, maxRequests: 200_000, warmupSeconds: i ? 0 : 2 })
        r.cpu = rss.cpu(r.startedAt, r.startedAt + r.seconds * 1000)
        full.push(r)
        ctx.log(`  full load run ${i + 1}: ${int(r.okPerSecond * 50)} events/s, p99 ${r.latencyMs.p99} ms, ${r.non2xx} non-2xx`)
      }
      const rate = Math.max(1, Math.round(0.7 * median(full.map((r) => r.okPerSecond))))
      for (let i = 0; i < REPEATS; i++) {
        const r = await runLoad({ url, spec, connections: CONNECTIONS, seconds, maxRequests: 200_000, rate })
        r.cpu = rss.cpu(r.startedAt, r.startedAt + r.seconds * 1000)
        paced.push(r)
        ctx.log(`  70% load run ${i + 1} (${rate} req/s): p99 ${r.latencyMs.p99} ms, ${int(r.okPerSecond)} req/s`)
      }
    } finally {
      await pipeline.service.stop()
    }
    const samples = rss.stop()
    const sustained = median(full.map((r) => r.okPerSecond * 50))
    const p99 = median(paced.map((r) => r.latencyMs.p99))
    const rate = Math.round(0.7 * median(full.map((r) => r.okPerSecond)))
    ctx.memo.set('e2e-embedded', { eventsPerSecond: sustained, requestsPerSecond: sustained / 50 })
    const ratio = sustained / ceiling
    const failures = [...full, ...paced].reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0)
    return {
      summary: [
        summaryRow({
          benchmark: 'end to end, embedded',
          measure: 'events/s sustained',
          measured: int(sustained),
          ceiling: `${int(ceiling)} (${ceilingName})`,
          ratio: pct(ratio),
          target: '≥ 50%',
          met: ratio >= 0.5,
          gap: `${pct(0.5 - ratio)} short; at full load the process used ${fixed(median(full.map((r) => r.cpu)), 2)} cores and requests waited ${fixed(median(full.map((r) => r.latencyMs.p50)), 0)} ms (p50) for their group-committed insert`,
        }),
        summaryRow({
          benchmark: 'end to end, embedded',
          measure: `ingest p99 at 70% load (${int(rate * 50)} events/s)`,
          measured: `${fixed(p99, 0)} ms`,
          ceiling: '—',
          ratio: '—',
          target: '≤ 50 ms',
          met: p99 <= 50,
          gap: `${fixed(p99 - 50, 0)} ms over`,
        }),
      ],
      markdown: [
        table(
          ['phase', 'events/s (median)', 'runs', 'p50 ms', 'p99 ms', 'process CPU (cores)', 'non-2xx + errors'],
          [
            ['full load', int(sustained), runs(full.map((r) => r.okPerSecond * 50)), fixed(median(full.map((r) => r.latencyMs.p50)), 0), fixed(median(full.map((r) => r.latencyMs.p99)), 0), fixed(median(full.map((r) => r.cpu)), 2), full.reduce((s, r) => s + r.non2xx + r.errors, 0)],
            [`fixed rate ${rate} req/s (70%)`, int(median(paced.map((r) => r.okPerSecond * 50))), runs(paced.map((r) => r.okPerSecond * 50)), fixed(median(paced.map((r) => r.latencyMs.p50)), 0), fixed(p99, 0), fixed(median(paced.map((r) => r.cpu)), 2), paced.reduce((s, r) => s + r.non2xx + r.errors, 0)],
          ],
          ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
        ),
        '',
        table(
          ['ceiling (same run)', 'per second (median)'],
          [
            ['bare Hono route, batches of 50 (events/s)', int(bare.eventsPerSecond)],
            ['raw insert of pre-serialized rows (rows/s)', int(raw.rowsPerSecond)],
          ],
          ['l', 'r'],
        ),
        '',
        `processor/dist/main-embedded.js with a tenants file, fresh chDB dir, default writer settings; autocannon (own process, unpinned) with ${CONNECTIONS} connections, ${REPEATS} runs of ${seconds} s per phase, ${int(spec.count)} distinct batch bodies of 50 events; p99 is autocannon's, corrected for coordinated omission at the fixed rate. Process RSS: max ${fixed(Math.max(...samples.map((s) => s.mb)), 0)} MB. ${failures} failed requests in total.`,
      ].join('\n'),
    }
  },
}
