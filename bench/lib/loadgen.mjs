// The load generator, always its own process (`node lib/loadgen.mjs '<json>'`): autocannon against one loopback URL,
// bounded by both a duration and a request count, printing one JSON line with what came back.
import autocannon from 'autocannon'
import { digest, freshIdPasses, requests } from './traffic.mjs'

const cfg = JSON.parse(process.argv[2] ?? '{}')
const url = new URL(cfg.url)
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`load goes to loopback only, not ${url.hostname}`)

const pool = requests(cfg.spec)
let next = 0
const fresh = freshIdPasses()
const withPass = (body, pass) => (cfg.freshIds ? fresh(body, pass) : body)
const instance = autocannon({
  url: cfg.url,
  method: 'POST',
  connections: cfg.connections,
  pipelining: 1,
  duration: cfg.durationSeconds,
  maxOverallRequests: cfg.maxRequests,
  ...(cfg.overallRate ? { overallRate: cfg.overallRate } : {}),
  ...(cfg.warmupSeconds ? { warmup: { connections: cfg.connections, duration: cfg.warmupSeconds } } : {}),
  timeout: 10,
  // One pooled request after another, so no body repeats until the pool is used up.
  requests: [
    {
      setupRequest: (req) => {
        const n = next++
        const r = pool[n % pool.length]
        return { ...req, body: withPass(r.body, Math.floor(n / pool.length)), headers: r.headers }
      },
    },
  ],
})
instance.on('error', (err) => {
  console.error(err)
  process.exit(1)
})
const result = await instance
const ok = result['2xx'] ?? 0
console.log(
  JSON.stringify({
    digest: digest(pool),
    bodies: pool.length,
    bodyBytes: Math.round(pool.reduce((s, r) => s + Buffer.byteLength(r.body), 0) / pool.length),
    startedAt: new Date(result.start).getTime(),
    sent: result.requests.sent,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    seconds: result.duration,
    okPerSecond: ok / result.duration,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
  }),
)
