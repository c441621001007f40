// The load generator of load.test.ts, run as its own process so it does not share the test's event loop:
// autocannon posts batches with fresh event ids and records which were acknowledged (202).
// Usage: node load-client.mjs '<json options>'; prints one JSON line with the results; writes the acked ids to options.ackedFile.
import { randomUUID } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import autocannon from 'autocannon'

const options = JSON.parse(process.argv[2] ?? '{}')
const { url, writeKey, origin, eventsPerRequest, connections, duration, maxRequests, ackedFile } = options
const acked = []
const statuses = {}

function body(ids) {
  const now = Date.now()
  return JSON.stringify({
    v: 1,
    k: writeKey,
    sa: now,
    c: { a: true, p: false, r: '1' },
    e: ids.map((id, i) => ({ id, t: 'pageview', ts: now - i, a: `anon_load_${i % 50}`, s: 'sess_load', u: 'https://app.example.com/load', sw: 1280, sh: 800, l: 'en', tz: 'UTC' })),
  })
}

const result = await autocannon({
  url,
  connections,
  // Bounded both ways: at most `duration` seconds and at most `maxRequests` requests.
  duration,
  maxOverallRequests: maxRequests,
  timeout: 20,
  requests: [
    {
      method: 'POST',
      path: '/v1/batch',
      headers: { 'content-type': 'application/json', origin, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) autocannon load' },
      // A fresh batch per request: unique event ids, remembered on the connection until the answer comes.
      setupRequest: (request, context) => {
        context.ids = Array.from({ length: eventsPerRequest }, () => randomUUID())
        return { ...request, body: body(context.ids) }
      },
      onResponse: (status, _body, context) => {
        statuses[status] = (statuses[status] ?? 0) + 1
        if (status === 202) acked.push(...context.ids)
      },
    },
  ],
})

writeFileSync(ackedFile, acked.join('\n'))
console.log(
  JSON.stringify({
    seconds: result.duration,
    requests: result.requests.total,
    requestsPerSecond: result.requests.average,
    latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statuses,
    acked: acked.length,
  }),
)
