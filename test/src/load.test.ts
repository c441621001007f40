import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, describe, expect, it } from 'vitest'
import { startPipeline } from './support/pipeline.js'
import { scrape, sum } from './support/prometheus.js'
import { SITE_ORIGIN, writeTenantsFile } from './support/tenants-file.js'
import { openWarehouse, rows } from './support/warehouse.js'

const CLIENT = fileURLToPath(new URL('./support/load-client.mjs', import.meta.url))
const WRITE_KEY = 'pk_load_site'
const EVENTS_PER_REQUEST = 10
const CONNECTIONS = 32

interface LoadRun {
  seconds: number
  requests: number
  requestsPerSecond: number
  latency: { p50: number; p90: number; p99: number; max: number }
  errors: number
  timeouts: number
  non2xx: number
  statuses: Record<string, number>
  acked: number
}

/** Runs autocannon in its own process, bounded by time and by request count (and killed if it overstays); returns its figures and the acked ids. */
function autocannon(url: string, connections: number, seconds: number, maxRequests: number): Promise<{ run: LoadRun; acked: string[] }> {
  const ackedFile = join(mkdtempSync(join(tmpdir(), 'atspark-load-')), 'acked.txt')
  const options = { url, writeKey: WRITE_KEY, origin: SITE_ORIGIN, eventsPerRequest: EVENTS_PER_REQUEST, connections, duration: seconds, maxRequests, ackedFile }
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, JSON.stringify(options)], { timeout: (seconds + 60) * 1000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`load client failed: ${err.message}\n${stderr}`))
      const run = JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadRun
      const text = readFileSync(ackedFile, 'utf8')
      resolve({ run, acked: text ? text.split('\n') : [] })
    })
  })
}

let warehouse: ClickHouseClient | undefined
afterAll(async () => {
  await warehouse?.close()
})

describe('load on the embedded pipeline (autocannon, loopback)', () => {
  it('no 5xx, memory plateaus, and every acknowledged event is in the warehouse', async () => {
    const pipeline = await startPipeline({
      ATSPARK_TENANTS_FILE: writeTenantsFile([WRITE_KEY]),
      // Capacity, not abuse, is under test: the rate limits are off for this run.
      RATE_LIMIT_KEY_RPS: '0',
      RATE_LIMIT_ADDRESS_RPS: '0',
      LOG_LEVEL: 'warn',
    })
    const rss = async () => sum(await scrape(pipeline.backoffice), 'atspark_process_resident_memory_bytes')
    try {
      // Warm-up: JIT, chDB's first parts and caches, so the main run measures the steady state.
      const warm = await autocannon(pipeline.ingest, 8, 10, 300)
      const rssStart = await rss()

      const samples: number[] = []
      let running = true
      const sampler = (async () => {
        while (running) {
          samples.push(await rss())
          await new Promise((r) => setTimeout(r, 250))
        }
      })()
      const { run, acked } = await autocannon(pipeline.ingest, CONNECTIONS, 40, 10_000)
      running = false
      await sampler
      const rssEnd = await rss()
      // Requests the client gave up on at its time bound are still answered: let them finish before counting.
      let m = await scrape(pipeline.backoffice)
      for (let i = 0; i < 100 && sum(m, 'atspark_ingest_inflight_requests') > 0; i++) {
        await new Promise((r) => setTimeout(r, 100))
        m = await scrape(pipeline.backoffice)
      }

      const half = Math.floor(samples.length / 2)
      const firstMax = Math.max(...samples.slice(0, half))
      const secondMax = Math.max(...samples.slice(half))
      const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`
      const eventsPerSecond = (run.acked / run.seconds).toFixed(0)
      console.log(
        `load: ${run.requests} requests (${EVENTS_PER_REQUEST} events each) over ${CONNECTIONS} connections in ${run.seconds.toFixed(1)} s: ` +
          `${run.requestsPerSecond.toFixed(0)} requests/s, ${eventsPerSecond} events/s acknowledged; latency p50 ${run.latency.p50} ms, p90 ${run.latency.p90} ms, ` +
          `p99 ${run.latency.p99} ms, max ${run.latency.max} ms; statuses ${JSON.stringify(run.statuses)}; ` +
          `RSS start ${mb(rssStart)}, peak ${mb(Math.max(...samples, rssEnd))}, end ${mb(rssEnd)} (max first half ${mb(firstMax)}, second half ${mb(secondMax)}, ${samples.length} samples)`,
      )

      // No 5xx and no transport errors: everything was answered, and answered 202.
      expect(run.errors).toBe(0)
      expect(run.timeouts).toBe(0)
      expect(Object.keys(run.statuses).filter((s) => Number(s) >= 500)).toEqual([])
      expect(run.statuses).toEqual({ 202: run.requests })
      expect(run.acked).toBe(run.requests * EVENTS_PER_REQUEST)
      expect(run.requests).toBeGreaterThan(500)
      // Memory plateaus: the second half of the run peaks no more than a little above the first.
      expect(samples.length).toBeGreaterThanOrEqual(8)
      expect(secondMax).toBeLessThan(firstMax * 1.25 + 32e6)
      // Ingest's counters agree with what the client saw (requests cut off by the time bound were answered after it stopped listening).
      const ackedByIngest = sum(m, 'atspark_ingest_events_total', { outcome: 'accepted' })
      const inFlightAtStop = (CONNECTIONS + 8) * EVENTS_PER_REQUEST
      expect(ackedByIngest).toBeGreaterThanOrEqual(warm.acked.length + acked.length)
      expect(ackedByIngest).toBeLessThanOrEqual(warm.acked.length + acked.length + inFlightAtStop)

      expect(await pipeline.stop()).toBe(0)
      warehouse = openWarehouse(pipeline.dataDir)
      // Exactly what ingest acknowledged is stored, once each.
      const [all] = await rows<{ n: string; u: string }>(warehouse, 'SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events')
      expect(all).toEqual({ n: String(ackedByIngest), u: String(ackedByIngest) })
      // And each acknowledged id by name, in chunks.
      let found = 0
      for (let i = 0; i < acked.length; i += 5_000) {
        const chunk = acked.slice(i, i + 5_000)
        const [r] = await rows<{ n: string }>(warehouse, `SELECT count() AS n FROM atspark.events WHERE event_id IN (${chunk.map((id) => `'${id}'`).join(',')})`)
        found += Number(r?.n)
      }
      expect(found).toBe(acked.length)
    } finally {
      await pipeline.stop()
    }
  }, 240_000)
})
