// The Kafka ceiling, one side per process: "produce" sends envelope-sized messages as ingest's producer is
// configured (acks=all, one request in flight, no idempotence); "consume" reads them in a consumer group doing no work.
import { randomBytes } from 'node:crypto'
import { sealIp } from '@atspark/runtime'
import { messageKey } from '@atspark/schemas'
import { Kafka, logLevel, Partitioners } from 'kafkajs'
import { envelopes } from '../lib/traffic.mjs'

const cfg = JSON.parse(process.argv[2] ?? '{}')
const kafka = new Kafka({ clientId: `atspark-bench-${cfg.mode}`, brokers: cfg.brokers.split(','), logLevel: logLevel.NOTHING })

if (cfg.mode === 'produce') {
  const keyring = { active: 'b1', keys: new Map([['b1', randomBytes(32)]]) }
  const ctx = { orgId: 'bench', siteId: 'web' }
  const messages = envelopes({ count: cfg.count, eventsPerEnvelope: cfg.eventsPerEnvelope, seed: cfg.seed, orgId: ctx.orgId, siteId: ctx.siteId, now: cfg.now, seal: (ip) => sealIp(ip, keyring, ctx) })
    // Spread round-robin: a record batch per partition must stay under the broker's 1 MB message.max.bytes.
    .map((m, i) => ({ key: messageKey(m), value: JSON.stringify(m), partition: i % cfg.partitions }))
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1 })
  await producer.connect()
  const bytes = messages.reduce((s, m) => s + Buffer.byteLength(m.value), 0)
  const perPartitionBatch = Math.max(1, Math.floor(900_000 / (bytes / messages.length)))
  const chunk = perPartitionBatch * cfg.partitions
  const startedAt = Date.now()
  for (let i = 0; i < messages.length; i += chunk) await producer.send({ topic: cfg.topic, acks: -1, messages: messages.slice(i, i + chunk) })
  const endedAt = Date.now()
  await producer.disconnect()
  console.log(JSON.stringify({ startedAt, endedAt, count: messages.length, messageBytes: Math.round(bytes / messages.length), chunk }))
} else {
  const consumer = kafka.consumer({ groupId: cfg.groupId, maxBytesPerPartition: 1_048_576, allowAutoTopicCreation: false })
  let count = 0
  let firstAt = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))
  consumer.on(consumer.events.GROUP_JOIN, () => console.log(JSON.stringify({ ready: { joined: true } })))
  await consumer.connect()
  await consumer.subscribe({ topic: cfg.topic, fromBeginning: true })
  await consumer.run({
    partitionsConsumedConcurrently: 2,
    eachBatch: async ({ batch, heartbeat }) => {
      firstAt ||= Date.now()
      count += batch.messages.length
      await heartbeat()
      if (count >= cfg.count) done(Date.now())
    },
  })
  const lastAt = await finished
  await consumer.disconnect()
  console.log(JSON.stringify({ firstAt, lastAt, count }))
  process.exit(0)
}
