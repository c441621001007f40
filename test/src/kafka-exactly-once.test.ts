import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { sendLoad } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { openWarehouse, rows } from './support/warehouse.js'

let d: Distributed | undefined
let warehouse: ClickHouseClient | undefined
afterAll(async () => {
  await warehouse?.close()
  await d?.stopAll()
})

const TOTAL = 50_000

describe('ingest → Kafka → processor → ClickHouse, exactly once', () => {
  it(`writes ${TOTAL} events exactly once while the processor is kill -9'd and restarted three times`, async () => {
    d = await startDistributed(inject('kafkaBrokers'))
    const load = sendLoad(d.ingestUrl, TOTAL, { batchSize: 50, concurrency: 8, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    const kills: number[] = []
    for (let i = 0; i < 3; i++) {
      // A random point in the flow: somewhere in the next 0.5–2.5 s.
      await new Promise((r) => setTimeout(r, 500 + Math.random() * 2000))
      kills.push(Date.now())
      await d.processor.kill()
      await d.restartProcessor()
    }
    const result = await load
    expect(result.statuses.get(202)).toBe(TOTAL / 50)
    await d.waitDrained(180_000)
    expect(await d.processor.stop()).toBe(0)

    warehouse = openWarehouse(d.dataDir)
    const [counts] = await rows<{ n: string; u: string }>(warehouse, 'SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events')
    expect(counts).toEqual({ n: String(TOTAL), u: String(TOTAL) })
    console.log(`exactly-once: ${TOTAL} rows after ${kills.length} kill -9s of the processor`)
  })
})
