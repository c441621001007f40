import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import { Kafka, type KafkaMessage, logLevel, Partitioners } from 'kafkajs'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { type KafkaBroker, startKafka } from './support/kafka-broker.js'

// The run's broker from kafka-global-setup when wired; otherwise this file starts one (or uses KAFKA_BROKERS).
const provided = inject('kafkaBrokers') as string | undefined
let shared: KafkaBroker | undefined
let own: KafkaBroker | undefined
afterAll(async () => {
  await Promise.all([shared?.stop(), own?.stop()])
})

async function bootstrap(): Promise<string[]> {
  if (provided) return provided.split(',')
  shared ??= await startKafka()
  return shared.brokers
}

/** A broker this file may kill: the one it started already, else its own even when KAFKA_BROKERS is set. */
async function killableBroker(): Promise<KafkaBroker> {
  if (shared && !shared.external) return shared
  own ??= await startKafka({ own: true })
  return own
}

function kafka(brokers: string[]): Kafka {
  return new Kafka({ clientId: 'kafka-broker-test', brokers, logLevel: logLevel.WARN, retry: { retries: 8, initialRetryTime: 200 } })
}

async function createTopic(client: Kafka, partitions: number): Promise<string> {
  const topic = `test.kafka-broker.${randomUUID()}`
  const admin = client.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
  return topic
}

async function produce(client: Kafka, topic: string, messages: { key: string; value: string }[]): Promise<void> {
  // Explicit partitioner: kafkajs 2 warns about its changed default otherwise.
  const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({ topic, acks: -1, messages })
  } finally {
    await producer.disconnect()
  }
}

/** Reads `count` messages from the beginning of `topic` with a fresh consumer group. */
async function consume(client: Kafka, topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = client.consumer({ groupId: `test.kafka-broker.${randomUUID()}`, allowAutoTopicCreation: false })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    const received: KafkaMessage[] = []
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`got ${received.length} of ${count} messages from ${topic}`)), 30_000)
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(message)
            if (received.length >= count) {
              clearTimeout(timer)
              resolve()
            }
          },
        })
        .catch(reject)
    })
    return received
  } finally {
    await consumer.disconnect()
  }
}

function portOpen(address: string): Promise<boolean> {
  const [host, port] = address.split(':')
  return new Promise((resolve) => {
    const socket = connect(Number(port), host)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('real Kafka broker', () => {
  it('produces with acks=all and consumes with a consumer group', { timeout: 120_000 }, async () => {
    const client = kafka(await bootstrap())
    const topic = await createTopic(client, 4)
    const sent = [1, 2, 3].map((n) => ({ key: 'visitor-1', value: `event-${n}` }))

    await produce(client, topic, sent)
    const received = await consume(client, topic, 3)

    // One key, one partition: order is kept.
    expect(received.map((m) => [m.key?.toString(), m.value?.toString()])).toEqual(sent.map((m) => [m.key, m.value]))
  })

  it('keeps acked messages across SIGKILL and restart on the same log dir', { timeout: 120_000 }, async () => {
    const broker = await killableBroker()
    const [address] = broker.brokers
    const client = kafka(broker.brokers)
    const topic = await createTopic(client, 1)
    await produce(client, topic, [{ key: 'visitor-2', value: 'before-crash' }])

    await broker.kill()
    expect(await portOpen(address!)).toBe(false)
    await broker.restart()

    expect(broker.brokers).toEqual([address])
    const [message] = await consume(kafka(broker.brokers), topic, 1)
    expect(message?.value?.toString()).toBe('before-crash')
  })
})
