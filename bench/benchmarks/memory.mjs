// Memory under full load: ingest's RSS (the built app with the acking no-op producer, and the real Kafka ingest when
// e2e-kafka ran in this run), and the embedded pipeline process (ingest + processor + chDB) sampled over a 2-minute
// full-load run, with its growth between the second and the last quarter of the run.
import { join } from 'node:path'
import { runLoad } from '../lib/load.mjs'
import { sampleRss } from '../lib/procs.mjs'
import { startEmbedded } from '../lib/services.mjs'
import { summaryRow, table } from '../lib/report.mjs'
import { fixed, int, median, slope } from '../lib/stats.mjs'
import { batchSpec, LOAD_CPU, startBenchServer } from './ingest.mjs'

const INGEST_LIMIT_MB = 200
/**
 * "No growth", allowing for chDB's ±50 MB swings: the linear trend over the run's second half may rise by at
 * most this share of that half's median RSS per minute (a plateau passes, a leak of ~30 MB/min does not).
 */
const SLOPE_TOLERANCE_PER_MIN = 0.05

export default {
  name: 'memory',
  about: 'ingest RSS under full load (≤ 200 MB), and the embedded processor RSS over a 2-minute full-load run (no growth)',
  async run(ctx) {
    const ingest = await startBenchServer('ingest')
    const ingestRss = sampleRss(ingest.service.pid, 250)
    let ingestLoad
    try {
      ingestLoad = await runLoad({ url: ingest.url, spec: batchSpec(ctx, 101), connections: 64, seconds: ctx.pick(10, 6), maxRequests: 500_000, cpu: LOAD_CPU, freshIds: false })
    } finally {
      await ingest.service.stop()
    }
    const ingestMax = Math.max(...ingestRss.stop().map((s) => s.mb))
    const kafkaRss = ctx.memo.get('kafka-rss')

    const seconds = ctx.pick(120, 30)
    const pipeline = await startEmbedded(join(ctx.tmp, 'memory-embedded'))
    const rss = sampleRss(pipeline.service.pid, 1000)
    let load
    try {
      load = await runLoad({ url: `${pipeline.ingestUrl}/v1/batch`, spec: batchSpec(ctx, 103), connections: 32, seconds, maxRequests: 2_000_000 })
    } finally {
      await pipeline.service.stop()
    }
    const samples = rss.stop().filter((s) => s.t <= seconds + 1)
    const quarter = (k) => median(samples.filter((s) => s.t >= (seconds * k) / 4 && s.t < (seconds * (k + 1)) / 4).map((s) => s.mb))
    const [q2, q4] = [quarter(1), quarter(3)]
    const growth = (q4 - q2) / q2
    const late = samples.filter((s) => s.t >= seconds / 2)
    const slopePerMin = slope(
      late.map((s) => s.t),
      late.map((s) => s.mb),
    ) * 60
    const lateMedian = median(late.map((s) => s.mb))
    const every = Math.max(1, Math.round(samples.length / 12))
    const curve = samples.filter((_, i) => i % every === 0).map((s) => `${Math.round(s.t)} s: ${Math.round(s.mb)}`)
    return {
      summary: [
        summaryRow({
          benchmark: 'memory',
          measure: 'ingest max RSS under full load',
          measured: `${fixed(ingestMax, 0)} MB`,
          ceiling: kafkaRss ? `Kafka ingest: ${fixed(kafkaRss.ingest, 0)} MB` : '—',
          ratio: '—',
          target: `≤ ${INGEST_LIMIT_MB} MB`,
          met: ingestMax <= INGEST_LIMIT_MB && (!kafkaRss || kafkaRss.ingest <= INGEST_LIMIT_MB),
          gap: `${fixed(Math.max(ingestMax, kafkaRss?.ingest ?? 0) - INGEST_LIMIT_MB, 0)} MB over`,
        }),
        summaryRow({
          benchmark: 'memory',
          measure: `embedded processor RSS trend over the second half of ${seconds} s at full load`,
          measured: `${slopePerMin >= 0 ? '+' : ''}${fixed(slopePerMin, 1)} MB/min (quarters 2→4: ${fixed(q2, 0)} → ${fixed(q4, 0)} MB)`,
          ceiling: '—',
          ratio: '—',
          target: `no growth: trend ≤ ${SLOPE_TOLERANCE_PER_MIN * 100}%/min of RSS (${fixed(SLOPE_TOLERANCE_PER_MIN * lateMedian, 0)} MB/min)`,
          met: slopePerMin <= SLOPE_TOLERANCE_PER_MIN * lateMedian,
          gap: `growing ${fixed(slopePerMin, 1)} MB/min over the second half (quarters 2→4: ${growth >= 0 ? '+' : ''}${fixed(growth * 100, 1)}%)`,
        }),
      ],
      markdown: [
        table(
          ['process', 'load', 'RSS', 'notes'],
          [
            ['ingest (built app, acking no-op producer)', `batches of 50, 64 connections, ${ctx.pick(10, 6)} s: ${int(ingestLoad.okPerSecond * 50)} events/s`, `max ${fixed(ingestMax, 0)} MB`, `${ingestLoad.non2xx} non-2xx`],
            ...(kafkaRss ? [['ingest and processor over Kafka (e2e-kafka, this run)', 'e2e-kafka full load', `max ${fixed(kafkaRss.ingest, 0)} / ${fixed(kafkaRss.processor, 0)} MB`, '']] : []),
            [
              'embedded pipeline (ingest + processor + chDB)',
              `batches of 50, 32 connections, ${seconds} s: ${int(load.okPerSecond * 50)} events/s`,
              `2nd quarter median ${fixed(q2, 0)} MB, 4th ${fixed(q4, 0)} MB, max ${fixed(Math.max(...samples.map((s) => s.mb)), 0)} MB`,
              `second-half slope ${fixed(slopePerMin, 1)} MB/min; ${load.non2xx} non-2xx`,
            ],
          ],
        ),
        '',
        `Embedded RSS over time (MB): ${curve.join(', ')}.`,
      ].join('\n'),
    }
  },
}
