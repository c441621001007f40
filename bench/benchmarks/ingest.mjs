// Ingest against a bare Hono route, each in its own process pinned to one core, with autocannon on the other core
// sending identical bodies (same digest) to both, alternating runs; every figure is the median of the runs.
import { fileURLToPath } from 'node:url'
import { runLoad } from '../lib/load.mjs'
import { readyLine, sampleRss, startNode } from '../lib/procs.mjs'
import { summaryRow, table } from '../lib/report.mjs'
import { fixed, int, median, pct, runs } from '../lib/stats.mjs'

const INGEST = fileURLToPath(new URL('../servers/ingest-noop.mjs', import.meta.url))
const BARE = fileURLToPath(new URL('../servers/bare-route.mjs', import.meta.url))
export const SERVER_CPU = 0
export const LOAD_CPU = 1
const REPEATS = 3

/** Starts a bench server script (ingest-noop or bare-route) pinned to the server core; resolves with its URL. */
export async function startBenchServer(which, nodeArgs = []) {
  const service = await startNode(which === 'ingest' ? INGEST : BARE, { ready: readyLine, cpu: SERVER_CPU, nodeArgs })
  return { service, url: `http://127.0.0.1:${service.ready.port}/v1/batch` }
}

/** The bare route's events/s for batches of 50, measured once per run and shared (e2e-embedded's first ceiling). */
export async function bareBatchCeiling(ctx) {
  if (!ctx.memo.has('bare-batch')) {
    const bare = await startBenchServer('bare')
    try {
      const out = []
      for (let i = 0; i < REPEATS; i++) out.push(await runLoad({ url: bare.url, spec: batchSpec(ctx), connections: 16, seconds: ctx.pick(4, 2), maxRequests: 200_000, warmupSeconds: i ? 0 : 1, cpu: LOAD_CPU, freshIds: false }))
      ctx.memo.set('bare-batch', { eventsPerSecond: median(out.map((r) => r.okPerSecond * 50)), runs: out })
    } finally {
      await bare.service.stop()
    }
  }
  return ctx.memo.get('bare-batch')
}

/** CPU µs per request: the server's CPU share over the run divided by the requests it answered. */
function cpuPerRequest(runs) {
  return median(runs.map((r) => (r.serverCpu / r.okPerSecond) * 1e6))
}

/** Why a ratio falls short, in measured terms. */
function cpuGap(result, short) {
  return `${short}; ingest used ${int(cpuPerRequest(result.ingest))} µs CPU per request vs ${int(cpuPerRequest(result.bare))} µs for the bare route, which seals no address, checks nothing and hands nothing on: AES-GCM sealing, the wire check, the consent gate, the bus hand-off and the edge headers (profile-notes.md)`
}

/** Median over repeats of measured/ceiling from the same repeat: robust to the machine's load drifting between runs. */
export function pairedRatio(measured, ceiling) {
  return median(measured.map((m, i) => m / ceiling[i]))
}

export const batchSpec = (ctx, seed = 21) => ({ count: ctx.pick(2_000, 800), eventsPerBody: 50, seed, now: ctx.now })
const singleSpec = (ctx) => ({ count: 20_000, eventsPerBody: 1, seed: 17, now: ctx.now })

async function compare(ctx, spec, connections) {
  const ingest = await startBenchServer('ingest')
  const bare = await startBenchServer('bare')
  const out = { ingest: [], bare: [] }
  const rss = sampleRss(ingest.service.pid, 250)
  const bareCpu = sampleRss(bare.service.pid, 250)
  try {
    for (let i = 0; i < REPEATS; i++) {
      // Alternate which goes first, so a drift in machine load does not favour one side.
      const order = i % 2 ? ['bare', 'ingest'] : ['ingest', 'bare']
      for (const side of order) {
        const url = side === 'ingest' ? ingest.url : bare.url
        const r = await runLoad({ url, spec, connections, seconds: ctx.pick(4, 2), maxRequests: 500_000, warmupSeconds: i ? 0 : 1, cpu: LOAD_CPU, freshIds: false })
        // How busy the server was: a ceiling well under one core means the load generator, not the route, was the limit.
        const sampler = side === 'ingest' ? rss : bareCpu
        r.serverCpu = sampler.cpu(r.startedAt, r.startedAt + r.seconds * 1000)
        r.serverWait = sampler.wait(r.startedAt, r.startedAt + r.seconds * 1000)
        out[side].push(r)
        ctx.log(`  ${side} run ${i + 1}: ${int(r.okPerSecond)} req/s, p99 ${r.latencyMs.p99} ms, server CPU ${pct(r.serverCpu)} + waiting ${pct(r.serverWait)}${r.non2xx || r.errors ? `, ${r.non2xx} non-2xx, ${r.errors} errors` : ''}`)
      }
    }
  } finally {
    await Promise.all([ingest.service.stop(), bare.service.stop()])
  }
  const samples = rss.stop()
  bareCpu.stop()
  return { ...out, ingestMaxRssMB: Math.max(...samples.map((s) => s.mb)) }
}

function details(ctx, spec, connections, result, unit) {
  const per = spec.eventsPerBody
  const row = (side, rs) => [
    side,
    int(median(rs.map((r) => r.okPerSecond * per))),
    runs(rs.map((r) => r.okPerSecond * per)),
    fixed(median(rs.map((r) => r.latencyMs.p50)), 0),
    fixed(median(rs.map((r) => r.latencyMs.p99)), 0),
    `${pct(median(rs.map((r) => r.serverCpu)))} + ${pct(median(rs.map((r) => r.serverWait)))}`,
    rs.reduce((s, r) => s + r.non2xx + r.errors + r.timeouts, 0),
    rs[0].digest,
  ]
  const bareBusy = median(result.bare.map((r) => r.serverCpu + r.serverWait))
  return [
    table(
      ['target', `${unit} (median)`, 'runs', 'p50 ms', 'p99 ms', 'server CPU + waiting for a core', 'non-2xx + errors', 'bodies digest'],
      [row('ingest (built app, acking no-op producer)', result.ingest), row('bare Hono route: JSON.parse + 204', result.bare)],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    '',
    // Running plus runnable-but-waiting well under 100% means the route sat idle between requests.
    ...(bareBusy < 0.85 ? [`The bare route ran or waited for its core only ${pct(bareBusy)} of the time: the load generator was the limit, so the ceiling is a lower bound and the true ratio is lower still.`, ''] : []),
    'Server CPU is the share of one core the server used; waiting is the share its main thread was runnable but had no core (other processes on this machine).',
    `Ratio: median over repeats of ingest/bare within the same repeat. ${REPEATS} alternating runs of ${ctx.pick(4, 2)} s per target (+1 s warm-up first), ${connections} connections, ${int(spec.count)} distinct bodies of ${per} event(s) (~${int(result.ingest[0].bodyBytes)} B), realistic UA and address mix; servers pinned to CPU ${SERVER_CPU}, autocannon to CPU ${LOAD_CPU} when taskset is available. Ingest max RSS during these runs: ${fixed(result.ingestMaxRssMB, 0)} MB.`,
  ].join('\n')
}

export const ingestSingle = {
  name: 'ingest-single',
  about: 'POST /v1/batch with one event per request: ingest vs a bare Hono route (requests/s)',
  async run(ctx) {
    const spec = singleSpec(ctx)
    const result = await compare(ctx, spec, 32)
    const measured = median(result.ingest.map((r) => r.okPerSecond))
    const ceiling = median(result.bare.map((r) => r.okPerSecond))
    const ratio = pairedRatio(
      result.ingest.map((r) => r.okPerSecond),
      result.bare.map((r) => r.okPerSecond),
    )
    return {
      summary: [
        summaryRow({
          benchmark: 'ingest, single events',
          measure: 'requests/s',
          measured: int(measured),
          ceiling: `${int(ceiling)} (bare route)`,
          ratio: pct(ratio),
          target: '≥ 75%',
          met: ratio >= 0.75,
          gap: cpuGap(result, `${pct(0.75 - ratio)} short`),
        }),
      ],
      markdown: details(ctx, spec, 32, result, 'requests/s'),
    }
  },
}

export const ingestBatch = {
  name: 'ingest-batch',
  about: 'POST /v1/batch with 50 events per request: ingest vs a bare Hono route (events/s)',
  async run(ctx) {
    const spec = batchSpec(ctx)
    const result = await compare(ctx, spec, 16)
    const measured = median(result.ingest.map((r) => r.okPerSecond * 50))
    const ceiling = median(result.bare.map((r) => r.okPerSecond * 50))
    ctx.memo.set('bare-batch', { eventsPerSecond: ceiling, runs: result.bare })
    ctx.memo.set('ingest-batch-rss', result.ingestMaxRssMB)
    const ratio = pairedRatio(
      result.ingest.map((r) => r.okPerSecond),
      result.bare.map((r) => r.okPerSecond),
    )
    return {
      summary: [
        summaryRow({
          benchmark: 'ingest, batches of 50',
          measure: 'events/s',
          measured: int(measured),
          ceiling: `${int(ceiling)} (bare route)`,
          ratio: pct(ratio),
          target: '≥ 70%',
          met: ratio >= 0.7,
          gap: cpuGap(result, `${pct(0.7 - ratio)} short`),
        }),
      ],
      markdown: details(ctx, spec, 16, result, 'events/s'),
    }
  },
}
