import type { ClickHouseClient } from '@clickhouse/client'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { batch, event, post, sendLoad } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { type KafkaBroker, startKafka } from './support/kafka-broker.js'
import { startPipeline } from './support/pipeline.js'
import { scrape, sum } from './support/prometheus.js'
import { SITE_ORIGIN, writeTenantsFile } from './support/tenants-file.js'
import { openWarehouse, rows } from './support/warehouse.js'

let d: Distributed | undefined
let ownBroker: KafkaBroker | undefined
let warehouse: ClickHouseClient | undefined
afterEach(async () => {
  await warehouse?.close()
  warehouse = undefined
  await d?.stopAll()
  d = undefined
  await ownBroker?.stop()
  ownBroker = undefined
})

/** Polls `check` until it is true or `ms` pass; returns how long it took. */
async function waitFor(what: string, check: () => Promise<boolean>, ms: number): Promise<number> {
  const started = Date.now()
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - started
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const readyz = (url: string) => fetch(`${url}/readyz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { reason?: string } }))

const KEYS = { ok: 'pk_accepted', consent: 'pk_consent', dnt: 'pk_dnt', gpc: 'pk_gpc', invalid: 'pk_invalid', flood: 'pk_flood', addr: 'pk_addr' } as const

describe('metrics, logs and shutdown on the embedded pipeline', () => {
  it('/metrics adds up over mixed traffic: accepted + dropped by reason = received, requests by status = requests sent', async () => {
    const pipeline = await startPipeline({
      ATSPARK_TENANTS_FILE: writeTenantsFile(Object.values(KEYS)),
      // Every key below sends at most its burst, except the flood key; one address is flooded through the trusted proxy.
      RATE_LIMIT_KEY_RPS: '0.5',
      RATE_LIMIT_KEY_BURST: '3',
      RATE_LIMIT_ADDRESS_RPS: '0.5',
      RATE_LIMIT_ADDRESS_BURST: '2',
      // No per-address share of a key: the tallies below count the write-key and address limits only.
      RATE_LIMIT_KEY_ADDRESS_SHARE: '1',
      SHUTDOWN_TIMEOUT_MS: '15000',
    })
    const statuses = new Map<number, number>()
    let accepted = 0
    let keyLimited = 0
    let addressLimited = 0
    const send = async (body: unknown, headers: Record<string, string> = {}) => {
      const res = await post(pipeline.ingest, body, { origin: SITE_ORIGIN, headers: { 'x-forwarded-for': '203.0.113.200', ...headers } })
      const json = (await res.json().catch(() => ({}))) as { accepted?: number; limit?: string }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      if (res.status === 202) accepted += json.accepted ?? 0
      if (res.status === 429 && json.limit === 'write_key') keyLimited++
      if (res.status === 429 && json.limit === 'client_address') addressLimited++
      return res.status
    }
    const events = (n: number) => Array.from({ length: n }, () => event({ a: 'anon_ops_secret', s: 'sess_ops_secret' }))
    const xff = (i: number) => ({ 'x-forwarded-for': `203.0.113.${i}` })

    expect(await send(batch(events(3), { k: KEYS.ok }), xff(1))).toBe(202)
    expect(await send(batch(events(3), { k: KEYS.ok }), xff(2))).toBe(202)
    expect(await send(batch(events(4), { k: KEYS.consent, c: { a: false, p: false, r: '1' } }), xff(3))).toBe(202)
    expect(await send(batch(events(2), { k: KEYS.dnt }), { ...xff(4), dnt: '1' })).toBe(202)
    expect(await send(batch(events(3), { k: KEYS.gpc }), { ...xff(5), 'sec-gpc': '1' })).toBe(202)
    // Two valid and two invalid events: the valid ones land, the others are rejected one by one.
    expect(await send(batch([...events(2), { ...event(), id: 'not-a-uuid' }, { ...event(), t: 'nope' as 'pageview' }], { k: KEYS.invalid }), xff(6))).toBe(202)
    // Nothing valid at all: 400, its events still counted as rejected.
    expect(await send(batch([{ ...event(), id: 'x' }, { ...event(), id: 'y' }, { ...event(), id: 'z' }], { k: KEYS.invalid }), xff(7))).toBe(400)
    for (let i = 0; i < 10; i++) await send(batch(events(2), { k: KEYS.flood }), xff(20 + i))
    for (let i = 0; i < 5; i++) await send(batch(events(1), { k: KEYS.addr }), { 'x-forwarded-for': '198.51.100.77' })
    expect(await send('{not json', xff(8))).toBe(400)
    expect(await send(batch(events(1), { k: 'pk_unknown_key' }), xff(9))).toBe(401)
    expect(keyLimited).toBeGreaterThanOrEqual(6)
    expect(addressLimited).toBeGreaterThanOrEqual(2)

    const m = await scrape(pipeline.backoffice)
    const outcome = (o: string) => sum(m, 'atspark_ingest_events_total', { outcome: o })
    const received = sum(m, 'atspark_ingest_events_received_total')
    const figures = {
      received,
      accepted: outcome('accepted'),
      rejected: outcome('rejected'),
      consent: outcome('dropped_consent'),
      dnt: outcome('dropped_dnt'),
      gpc: outcome('dropped_gpc'),
      rate_limited: outcome('dropped_rate_limited'),
      unavailable: outcome('dropped_unavailable'),
    }
    console.log(`metrics: ${JSON.stringify(figures)}; requests ${JSON.stringify(Object.fromEntries(statuses))}`)
    // The identity: every event of an authorized batch ends in exactly one outcome.
    expect(sum(m, 'atspark_ingest_events_total')).toBe(received)
    expect(figures).toEqual({ received, accepted, rejected: 5, consent: 4, dnt: 2, gpc: 3, rate_limited: 2 * keyLimited, unavailable: 0 })
    // Address-limited requests were refused before their body was read: counted as requests, not events.
    expect(received).toBe(accepted + 5 + 4 + 2 + 3 + 2 * keyLimited)
    // Requests: every one we sent, by status, with its reason.
    const sent = [...statuses.values()].reduce((a, b) => a + b, 0)
    expect(sum(m, 'atspark_ingest_requests_total')).toBe(sent)
    for (const [status, n] of statuses) expect(sum(m, 'atspark_ingest_requests_total', { status: String(status) })).toBe(n)
    expect(sum(m, 'atspark_ingest_requests_total', { status: '429', reason: 'rate_limited' })).toBe(keyLimited + addressLimited)
    expect(sum(m, 'atspark_ingest_requests_total', { status: '400', reason: 'malformed_json' })).toBe(1)
    expect(sum(m, 'atspark_ingest_requests_total', { status: '401', reason: 'unknown_write_key' })).toBe(1)
    expect(sum(m, 'atspark_ingest_rate_limited_total', { limit: 'write_key' })).toBe(keyLimited)
    expect(sum(m, 'atspark_ingest_rate_limited_total', { limit: 'client_address' })).toBe(addressLimited)
    // The warehouse side agrees with ingest, and the latency and batch-size series exist.
    expect(sum(m, 'atspark_processor_rows_written_total', { table: 'events' })).toBe(accepted)
    expect(sum(m, 'atspark_processor_warehouse_insert_seconds_count', { table: 'events' })).toBeGreaterThan(0)
    expect(sum(m, 'atspark_processor_batch_rows_count')).toBeGreaterThan(0)
    expect(sum(m, 'atspark_ingest_publish_seconds_count')).toBeGreaterThan(0)
    expect(sum(m, 'atspark_ingest_request_duration_seconds_count', { route: 'batch' })).toBe(sent)
    expect(m.some((s) => s.name === 'atspark_ingest_bus_queued_items')).toBe(true)
    expect(sum(m, 'atspark_processor_warehouse_write_failures_total')).toBe(0)

    // Graceful shutdown: stops accepting, drains, exits 0 well within the bound.
    const stopping = Date.now()
    expect(await pipeline.stop()).toBe(0)
    const stopMs = Date.now() - stopping
    expect(stopMs).toBeLessThan(15_000)

    // Logs: one JSON object per line with an ISO time; no client address, visitor id or user agent in them.
    const lines = pipeline.output().split('\n').filter((l) => l.startsWith('{'))
    expect(lines.length).toBeGreaterThan(3)
    for (const line of lines) {
      const entry = JSON.parse(line) as { time: string; level: number; msg: string }
      expect(new Date(entry.time).toISOString()).toBe(entry.time)
      expect(typeof entry.msg).toBe('string')
    }
    for (const secret of ['203.0.113.', '198.51.100.77', 'anon_ops_secret', 'sess_ops_secret', 'Chrome/131']) expect(pipeline.output()).not.toContain(secret)
    expect(lines.some((l) => l.includes('"msg":"stopped cleanly"'))).toBe(true)
    console.log(`shutdown: drained and exited 0 in ${stopMs} ms (bound 15000 ms); ${lines.length} JSON log lines, none with an address, id or user agent`)
  })
})

describe('readiness, backpressure and the shutdown bound on the Kafka path', () => {
  it('/readyz of ingest and processor turns 503 while the broker is down and 200 once it is back', async () => {
    ownBroker = await startKafka({ own: true })
    const probe = { KAFKA_HEALTH_INTERVAL_MS: '500' }
    d = await startDistributed(ownBroker.brokers.join(','), probe, { ingestEnv: probe })
    expect((await readyz(d.ingestUrl)).status).toBe(200)
    expect((await readyz(d.backofficeUrl)).status).toBe(200)
    expect(sum(await scrape(d.ingestUrl), 'atspark_ingest_kafka_reachable')).toBe(1)

    await ownBroker.kill()
    const downMs = await waitFor('both not ready', async () => (await readyz(d!.ingestUrl)).status === 503 && (await readyz(d!.backofficeUrl)).status === 503, 30_000)
    expect((await readyz(d.backofficeUrl)).body.reason).toBe('kafka unreachable')
    expect(sum(await scrape(d.ingestUrl), 'atspark_ingest_kafka_reachable')).toBe(0)
    expect(sum(await scrape(d.backofficeUrl), 'atspark_processor_kafka_reachable')).toBe(0)

    await ownBroker.restart()
    const upMs = await waitFor('both ready again', async () => (await readyz(d!.ingestUrl)).status === 200 && (await readyz(d!.backofficeUrl)).status === 200, 120_000)
    // Ready again means able again: a batch is accepted.
    const after = await sendLoad(d.ingestUrl, 10, { batchSize: 10, concurrency: 1, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    expect(after.acked).toHaveLength(10)
    console.log(`readiness: not ready ${downMs} ms after the broker died, ready ${upMs} ms after it came back`)
  })

  it('pauses partitions while warehouse writes fail: /readyz 503, paused partitions and lag on /metrics, then all drains', async () => {
    d = await startDistributed(inject('kafkaBrokers'), { ATSPARK_FAILPOINTS: '1' })
    await setFailpoint(d, 'fail')
    const load = await sendLoad(d.ingestUrl, 1_000, { writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    expect(load.acked).toHaveLength(1_000)
    await waitFor('processor not ready', async () => (await readyz(d!.backofficeUrl)).body.reason === 'warehouse writes failing', 30_000)
    let m = await scrape(d.backofficeUrl)
    const paused = sum(m, 'atspark_processor_paused_partitions')
    const lag = sum(m, 'atspark_processor_consumer_lag')
    expect(paused).toBeGreaterThan(0)
    expect(lag).toBeGreaterThan(0)
    expect(sum(m, 'atspark_processor_warehouse_write_failures_total')).toBeGreaterThan(0)

    await setFailpoint(d, 'off')
    await d.waitDrained()
    await waitFor('processor ready', async () => (await readyz(d!.backofficeUrl)).status === 200, 30_000)
    await waitFor('lag 0 on /metrics', async () => sum(await scrape(d!.backofficeUrl), 'atspark_processor_consumer_lag') === 0, 10_000)
    m = await scrape(d.backofficeUrl)
    expect(sum(m, 'atspark_processor_paused_partitions')).toBe(0)
    expect(sum(m, 'atspark_processor_rows_written_total', { table: 'events' })).toBe(1_000)
    expect(sum(m, 'atspark_processor_warehouse_insert_seconds_count', { table: 'events' })).toBeGreaterThan(0)
    console.log(`backpressure: ${paused} partitions paused and lag ${lag} while failing; drained to lag 0 after`)
  })

  it('a drain stuck on the warehouse is cut at SHUTDOWN_TIMEOUT_MS, and the next processor writes every event exactly once', async () => {
    d = await startDistributed(inject('kafkaBrokers'), { ATSPARK_FAILPOINTS: '1', SHUTDOWN_TIMEOUT_MS: '3000' })
    await setFailpoint(d, 'stall')
    const load = await sendLoad(d.ingestUrl, 300, { batchSize: 50, concurrency: 2, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    expect(load.acked).toHaveLength(300)
    await waitFor('a write in hand', async () => (await d!.lag()) > 0, 10_000)
    await new Promise((r) => setTimeout(r, 1_000))
    const stopping = Date.now()
    const code = await d.processor.stop()
    const stopMs = Date.now() - stopping
    console.log(`shutdown bound: processor with a stalled write exited ${code} after ${stopMs} ms (bound 3000 ms)`)
    expect(code).toBe(1)
    expect(stopMs).toBeGreaterThanOrEqual(2_900)
    expect(stopMs).toBeLessThan(3_000 + 3_000)
    expect(d.processor.output()).toContain('shutdown bound reached')

    await d.restartProcessor()
    await d.waitDrained()
    expect(await d.processor.stop()).toBe(0)
    warehouse = openWarehouse(d.dataDir)
    const [r] = await rows<{ n: string; u: string }>(warehouse, 'SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events')
    expect(r).toEqual({ n: '300', u: '300' })
  })
})

async function setFailpoint(dist: Distributed, mode: 'off' | 'fail' | 'stall'): Promise<void> {
  const res = await fetch(`${dist.backofficeUrl}/_failpoints/warehouse-write`, { method: 'PUT', body: JSON.stringify({ mode }), headers: { 'content-type': 'application/json' } })
  expect(res.status).toBe(200)
}
