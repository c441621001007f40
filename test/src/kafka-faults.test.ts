import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate, recordWriter } from '@atspark/warehouse'
import { toEventRows } from '@atspark/processor'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { batch, event, post, sendLoad } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { type KafkaBroker, startKafka } from './support/kafka-broker.js'
import { openWarehouse, rows } from './support/warehouse.js'

let d: Distributed | undefined
let warehouse: ClickHouseClient | undefined
let ownBroker: KafkaBroker | undefined
afterEach(async () => {
  await warehouse?.close()
  warehouse = undefined
  await d?.stopAll()
  d = undefined
  await ownBroker?.stop()
  ownBroker = undefined
})

async function setFailpoint(mode: 'off' | 'fail' | 'stall'): Promise<void> {
  const res = await fetch(`${d!.backofficeUrl}/_failpoints/warehouse-write`, { method: 'PUT', body: JSON.stringify({ mode }), headers: { 'content-type': 'application/json' } })
  expect(res.status).toBe(200)
}

async function rssBytes(): Promise<number> {
  const text = await (await fetch(`${d!.backofficeUrl}/metrics`)).text()
  return Number(/^atspark_processor_process_resident_memory_bytes (\d+)/m.exec(text)?.[1])
}

async function counts(): Promise<{ n: string; u: string }> {
  expect(await d!.processor.stop()).toBe(0)
  warehouse = openWarehouse(d!.dataDir)
  const [r] = await rows<{ n: string; u: string }>(warehouse, 'SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events')
  return r!
}

describe('faults on the Kafka path', () => {
  it('a repeated insert of a batch with the same dedup token is a no-op in the warehouse', async () => {
    const client = openWarehouse(mkdtempSync(join(tmpdir(), 'atspark-dedup-')))
    warehouse = client
    await migrate(client)
    const env = { v: 1 as const, kind: 'events' as const, org_id: 'o', site_id: 's', received_at: Date.now(), sent_at: Date.now(), ip_sealed: '', ua: '' }
    const records = toEventRows(
      { ...env, events: [1, 2, 3].map(() => ({ id: crypto.randomUUID(), t: 'pageview' as const, ts: Date.now() })) },
      { geo: { country: () => '' }, pseudonymize: () => '', openIp: () => '' },
    ).map((row) => ({ table: 'events' as const, row }))
    const write = recordWriter(client)
    await write(records, 'raw:0:10-13')
    await write(records, 'raw:0:10-13')
    const [r] = await rows<{ n: string }>(client, 'SELECT count() AS n FROM atspark.events')
    expect(r?.n).toBe('3')
    // A later insert without a token must not inherit the last one (chDB keeps settings between queries).
    const more = toEventRows(
      { ...env, events: [1, 2].map(() => ({ id: crypto.randomUUID(), t: 'pageview' as const, ts: Date.now() })) },
      { geo: { country: () => '' }, pseudonymize: () => '', openIp: () => '' },
    ).map((row) => ({ table: 'events' as const, row }))
    await write(more)
    await write(more.map((m) => ({ ...m, row: { ...m.row, event_id: crypto.randomUUID() } })))
    const [after] = await rows<{ n: string }>(client, 'SELECT count() AS n FROM atspark.events')
    expect(after?.n).toBe('7')
  })

  it('re-forms a recorded batch after a kill -9 mid-write and writes it exactly once', async () => {
    d = await startDistributed(inject('kafkaBrokers'), { ATSPARK_FAILPOINTS: '1' })
    await setFailpoint('stall')
    const load = await sendLoad(d.ingestUrl, 500, { batchSize: 50, concurrency: 4, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    expect(load.acked).toHaveLength(500)
    // Let the processor seal batches and record their ends; the writes hang on the failpoint.
    await new Promise((r) => setTimeout(r, 2000))
    expect(await d.lag()).toBeGreaterThan(0)
    await d.processor.kill()
    const restarted = await d.restartProcessor()
    await d.waitDrained()
    expect(restarted.output()).toContain('re-forming a batch a previous run recorded')
    expect(await counts()).toEqual({ n: '500', u: '500' })
  })

  it('survives warehouse writes failing for a while: no loss, no duplicates, bounded memory, lag drains', async () => {
    d = await startDistributed(inject('kafkaBrokers'), { ATSPARK_FAILPOINTS: '1' })
    await sendLoad(d.ingestUrl, 2_000, { writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    await d.waitDrained()
    const before = await rssBytes()
    await setFailpoint('fail')
    const during = await sendLoad(d.ingestUrl, 20_000, { writeKey: WRITE_KEYS.b, origin: TEST_ORIGIN })
    expect(during.acked).toHaveLength(20_000)
    let peak = before
    for (let i = 0; i < 16; i++) {
      await new Promise((r) => setTimeout(r, 500))
      peak = Math.max(peak, await rssBytes())
    }
    const lagWhileFailing = await d.lag()
    expect(lagWhileFailing).toBeGreaterThan(0)
    await setFailpoint('off')
    await d.waitDrained()
    expect(await d.lag()).toBe(0)
    console.log(`warehouse outage: lag ${lagWhileFailing} while failing; RSS ${(before / 1e6).toFixed(0)} MB before, peak ${(peak / 1e6).toFixed(0)} MB`)
    // The failing partitions are paused, so the backlog waits in Kafka, not in memory.
    expect(peak - before).toBeLessThan(150e6)
    expect(await counts()).toEqual({ n: '22000', u: '22000' })
  })

  it('broker down and back: every 2xx event lands, and requests during the outage get 503, never 2xx', async () => {
    ownBroker = await startKafka({ own: true })
    d = await startDistributed(ownBroker.brokers.join(','))
    const before = await sendLoad(d.ingestUrl, 1_000, { writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    await ownBroker.kill()
    const downFrom = Date.now()
    const during = await sendLoad(d.ingestUrl, 100, { batchSize: 10, concurrency: 2, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN, pauseMs: 100 })
    const downUntil = Date.now()
    await ownBroker.restart()
    // Ingest and processor reconnect by themselves; keep sending until batches are accepted again.
    const after = await sendLoad(d.ingestUrl, 1_000, { writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN, pauseMs: 20 })
    await d.waitDrained(120_000)

    const outage = during.requests.filter((r) => r.at >= downFrom && r.at < downUntil)
    expect(outage.length).toBeGreaterThan(0)
    expect(outage.filter((r) => r.status >= 200 && r.status < 300)).toEqual([])
    expect(new Set(outage.map((r) => r.status))).toEqual(new Set([503]))
    expect(after.acked.length).toBeGreaterThan(0)

    const acked = [...before.acked, ...after.acked]
    expect(await d.processor.stop()).toBe(0)
    warehouse = openWarehouse(d.dataDir)
    const [r] = await rows<{ n: string }>(warehouse, `SELECT count() AS n FROM atspark.events WHERE event_id IN (${acked.map((id) => `'${id}'`).join(',')})`)
    expect(r?.n).toBe(String(acked.length))
    console.log(`broker outage: ${outage.length} requests during it, all 503; ${acked.length} acknowledged events all stored`)
  })

  it('broker down: every publish answers within KAFKA_PRODUCE_TIMEOUT_MS, also those queued behind a failing send', async () => {
    const timeoutMs = 3_000
    ownBroker = await startKafka({ own: true })
    d = await startDistributed(ownBroker.brokers.join(','), {}, { ingestEnv: { KAFKA_PRODUCE_TIMEOUT_MS: String(timeoutMs) } })
    expect((await sendLoad(d.ingestUrl, 100, { writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })).acked).toHaveLength(100)
    await ownBroker.kill()
    // Four clients, each sending again as soon as answered, with staggered starts: requests keep arriving during every send.
    const answers: { status: number; ms: number }[] = []
    const until = Date.now() + 14_000
    await Promise.all(
      [0, 700, 1_400, 2_100].map(async (offset) => {
        await new Promise((r) => setTimeout(r, offset))
        while (Date.now() < until) {
          const started = performance.now()
          const res = await post(d!.ingestUrl, batch([event()], { k: WRITE_KEYS.a }), { origin: TEST_ORIGIN })
          await res.arrayBuffer()
          answers.push({ status: res.status, ms: performance.now() - started })
        }
      }),
    )
    const slowest = Math.max(...answers.map((a) => a.ms))
    console.log(`broker down: ${answers.length} requests, statuses ${JSON.stringify([...new Set(answers.map((a) => a.status))])}, slowest ${slowest.toFixed(0)} ms against ${timeoutMs} ms`)
    expect(answers.length).toBeGreaterThanOrEqual(8)
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([503]))
    // The bound plus scheduling slack on a loaded machine; a publish that waited out a send ahead of it took up to twice the bound.
    expect(slowest).toBeLessThan(timeoutMs + 1_000)
  })
})
