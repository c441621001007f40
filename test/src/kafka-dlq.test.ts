import type { BusMessage } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { openWarehouse, rows } from './support/warehouse.js'

let d: Distributed
let warehouse: ClickHouseClient
const good = [event(), event()]
const shared = event()
const dlq: { reason: string; source: { offset: string } }[] = []

function envelopeFor(e: ReturnType<typeof event>): BusMessage {
  // Sealed with the test's key, as ingest would have: the processor opens it like any other.
  const ip_sealed = d.sealIp('198.51.100.7', 'org-a', 'web')
  return { v: 1, kind: 'events', org_id: 'org-a', site_id: 'web', received_at: Date.now(), sent_at: Date.now(), ip_sealed, ua: 'UA', events: [e] }
}

beforeAll(async () => {
  d = await startDistributed(inject('kafkaBrokers'))
  // Written straight to the raw topic: poison between good messages, all on one partition.
  const producer = d.kafka.producer()
  await producer.connect()
  await producer.send({
    topic: d.rawTopic,
    acks: -1,
    messages: [
      { key: 'k', partition: 0, value: JSON.stringify(envelopeFor(good[0]!)) },
      { key: 'k', partition: 0, value: 'this is not json' },
      { key: 'k', partition: 0, value: JSON.stringify({ v: 1, kind: 'events', org_id: 'org-a' }) },
      { key: 'k', partition: 0, value: JSON.stringify(envelopeFor(good[1]!)) },
    ],
  })
  await producer.disconnect()
  // The same event id under two orgs is two events; the same id twice under one org is one.
  for (const key of [WRITE_KEYS.a, WRITE_KEYS.b, WRITE_KEYS.a]) {
    expect((await post(d.ingestUrl, batch([shared], { k: key }), { origin: TEST_ORIGIN })).status).toBe(202)
  }
  await d.waitDrained()

  const consumer = d.kafka.consumer({ groupId: `${d.groupId}-dlq-reader` })
  await consumer.connect()
  await consumer.subscribe({ topic: d.dlqTopic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      dlq.push(JSON.parse(message.value!.toString()))
    },
  })
  const deadline = Date.now() + 20_000
  while (dlq.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
  await consumer.disconnect()
  expect(await d.processor.stop()).toBe(0)
  warehouse = openWarehouse(d.dataDir)
})

afterAll(async () => {
  await warehouse?.close()
  await d?.stopAll()
})

describe('poison messages and org-scoped deduplication', () => {
  it('sends poison messages to the DLQ with the reason, and the partition moves on', () => {
    expect(dlq.map((r) => r.reason).sort()).toEqual([expect.stringMatching(/^not valid JSON$/), expect.stringMatching(/^schema: /)])
    expect(dlq.map((r) => r.source.offset).sort()).toEqual(['1', '2'])
  })

  it('lands the good messages around the poison', async () => {
    const ids = good.map((e) => `'${e.id}'`).join(',')
    const [r] = await rows<{ n: string }>(warehouse, `SELECT count() AS n FROM atspark.events WHERE event_id IN (${ids})`)
    expect(r?.n).toBe('2')
  })

  it('keeps the same event id under two orgs as two rows, and drops the repeat within one org', async () => {
    const found = await rows<{ org_id: string }>(warehouse, `SELECT org_id FROM atspark.events WHERE event_id = '${shared.id}' ORDER BY org_id`)
    expect(found).toEqual([{ org_id: 'org-a' }, { org_id: 'org-b' }])
  })
})
