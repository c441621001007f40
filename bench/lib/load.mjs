// Parent side of the load generator: one autocannon run in its own process against a loopback URL.
import { fileURLToPath } from 'node:url'
import { runNodeJson } from './procs.mjs'
const LOADGEN = fileURLToPath(new URL('./loadgen.mjs', import.meta.url))

import { BENCH_ORIGIN, BENCH_WRITE_KEY } from './site.mjs'

export { BENCH_ORIGIN, BENCH_WRITE_KEY }

/**
 * POSTs the pooled bodies of `spec` to `url` for `seconds` (and at most `maxRequests`), with `connections`
 * connections, optionally at a fixed `rate` (requests/s). Resolves with loadgen.mjs's JSON.
 * `freshIds` (default true): every pass over the pool gets event ids of its own (other runs' too), since a pipeline
 * that stores events drops repeated ids (SDK retries); targets that store nothing turn it off to spare the load core.
 */
export function runLoad({ url, spec, connections, seconds, maxRequests, rate, warmupSeconds = 0, cpu, freshIds = true }) {
  const cfg = {
    url,
    spec: { writeKey: BENCH_WRITE_KEY, origin: BENCH_ORIGIN, ...spec },
    connections,
    durationSeconds: seconds,
    maxRequests,
    overallRate: rate,
    warmupSeconds,
    freshIds,
  }
  return runNodeJson(LOADGEN, { args: [JSON.stringify(cfg)], cpu, timeoutMs: (seconds + warmupSeconds + 60) * 1000 })
}
