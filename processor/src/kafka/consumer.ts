import type { ClickHouseClient } from '@clickhouse/client'
import { type Admin, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, Partitioners, type Producer } from 'kafkajs'
import { type Logger, backoffDelay, RetryAbandonedError, retry } from '@atspark/runtime'
import { type RecentEventIds, rememberWritten, withoutSeenEvents } from '../dedup/recent-ids.js'
import { PoisonMessageError } from '../errors.js'
import type { ProcessorMetrics } from '../metrics.js'
import type { WarehouseRecord, WriteRecords } from '@atspark/warehouse'
import type { BusMessage } from '@atspark/schemas'
import { dedupToken, encodeBatchEnd, PartitionBatcher, type SealedBatch, decodeBatchEnd } from './batch-range.js'
import { type CommitFailpoint, KillPoint } from './commit-failpoint.js'
import { decodeMessage } from './decode.js'
import { dlqMessage } from './dlq.js'

export interface ConsumerOptions {
  groupId: string
  rawTopic: string
  dlqTopic: string
  sessionTimeoutMs: number
  partitionsConsumedConcurrently: number
}

export interface ConsumerDeps {
  kafka: Kafka
  warehouse: ClickHouseClient
  /** The instrumented warehouse write (rows, failures, batch sizes and the failpoint live there). */
  writeRecords: WriteRecords
  toRecords: (message: BusMessage) => WarehouseRecord[]
  recentIds: RecentEventIds
  /** The visits the write stamps from memory: rebuilt from the warehouse when partitions move, as another member may have written them. */
  visits?: { rebuild(): Promise<number> }
  logger: Logger
  metrics: ProcessorMetrics
  /** Test-only kill -9 on either side of the insert (ATSPARK_FAILPOINTS=1 and ATSPARK_FAILPOINT_KILL). */
  failpoint?: CommitFailpoint
}

export interface RunningConsumer {
  ready(): boolean
  /** Finishes or abandons the batch in hand (never half-commits), then leaves the group. */
  stop(): Promise<void>
}

/**
 * Exactly-once into the warehouse, per partition: fix a batch [start, end), record `end` in the
 * committed offset's metadata, insert with a dedup token naming the range, then commit `end`.
 * A restart re-forms the recorded range, so a repeated insert is dropped by ClickHouse.
 */
export async function startConsumer(options: ConsumerOptions, deps: ConsumerDeps): Promise<RunningConsumer> {
  const { kafka, logger, metrics } = deps
  const admin: Admin = kafka.admin()
  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false })
  const newConsumer = (): Consumer =>
    kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      rebalanceTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 6)),
      allowAutoTopicCreation: false,
      maxBytesPerPartition: 1_048_576,
      // A short long-poll: a stop waits for the fetch in flight, so this bounds how long leaving the group takes.
      maxWaitTimeInMs: 1_000,
    })
  let consumer = newConsumer()
  await Promise.all([admin.connect(), producer.connect()])

  const batchers = new Map<number, PartitionBatcher<KafkaMessage>>()
  let rebuilt: Promise<unknown> = Promise.resolve()
  let running = false

  async function batcherFor(partition: number, firstOffset: string): Promise<PartitionBatcher<KafkaMessage>> {
    const known = batchers.get(partition)
    if (known) return known
    const [topic] = await admin.fetchOffsets({ groupId: options.groupId, topics: [options.rawTopic] })
    const committed = topic?.partitions.find((p) => p.partition === partition)
    const start = committed && BigInt(committed.offset) >= 0n ? BigInt(committed.offset) : BigInt(firstOffset)
    const batcher = new PartitionBatcher<KafkaMessage>(start, decodeBatchEnd(committed?.metadata))
    if (batcher.recovering) logger.info({ partition, start: String(start) }, 're-forming a batch a previous run recorded')
    batchers.set(partition, batcher)
    return batcher
  }

  async function writeSealed(topic: string, partition: number, sealed: SealedBatch<KafkaMessage>, recovering: boolean, payload: EachBatchPayload): Promise<boolean> {
    const { start, end } = sealed
    if (!recovering) await consumer.commitOffsets([{ topic, partition, offset: String(start), metadata: encodeBatchEnd(end) }])
    const received: WarehouseRecord[] = []
    const poison = []
    const receivedAt: number[] = []
    for (const m of sealed.messages) {
      const decoded = decodeMessage(m.value)
      if (!decoded.ok) {
        poison.push(dlqMessage({ topic, partition, offset: m.offset, value: m.value }, decoded.reason))
        continue
      }
      try {
        for (const record of deps.toRecords(decoded.message)) received.push(record)
      } catch (err) {
        // E.g. a sealed IP no key of ours opens: it never will, so it goes to the DLQ like bad JSON.
        if (!(err instanceof PoisonMessageError)) throw err
        poison.push(dlqMessage({ topic, partition, offset: m.offset, value: m.value }, err.message))
        continue
      }
      receivedAt.push(decoded.message.received_at)
    }
    const { kept: records, duplicates } = withoutSeenEvents(received, deps.recentIds)
    if (poison.length) {
      await producer.send({ topic: options.dlqTopic, acks: -1, messages: poison })
      metrics.dlq.inc(poison.length)
      logger.warn({ partition, count: poison.length }, 'poison messages sent to the DLQ')
    }
    const token = dedupToken(topic, partition, start, end)
    deps.failpoint?.reached(KillPoint.beforeInsert, token)
    let resume: (() => void) | undefined
    try {
      await retry(
        () => deps.writeRecords(records, token),
        {
          initialMs: 200,
          maxMs: 5_000,
          keepGoing: () => payload.isRunning() && !payload.isStale(),
          onWait: async (attempt, err) => {
            if (attempt === 0) logger.warn({ err, partition }, 'warehouse write failed; pausing the partition and retrying')
            // Backpressure: stop fetching for this partition so memory stays bounded while the warehouse is away.
            if (!resume) {
              resume = payload.pause()
              metrics.pausedPartitions.inc()
            }
            await payload.heartbeat()
          },
        },
      )
    } catch (err) {
      if (err instanceof RetryAbandonedError) return false
      throw err
    } finally {
      if (resume) {
        resume()
        metrics.pausedPartitions.dec()
      }
    }
    deps.failpoint?.reached(KillPoint.afterInsert, token)
    rememberWritten(records, deps.recentIds)
    if (duplicates) metrics.duplicates.inc(duplicates)
    const now = Date.now()
    for (const t of receivedAt) metrics.freshness.observe((now - t) / 1000)
    await consumer.commitOffsets([{ topic, partition, offset: String(end) }])
    return true
  }

  let stopped = false
  /** Joins the group and consumes; a crash kafkajs will not restart from (e.g. the broker was away too long) relaunches a fresh consumer. */
  const launch = async (): Promise<void> => {
    const c = newConsumer()
    consumer = c
    c.on(c.events.GROUP_JOIN, () => {
      // Partitions may have moved: forget local ranges and reload what the warehouse already has.
      batchers.clear()
      rebuilt = Promise.all([
        deps.recentIds.rebuild(deps.warehouse).then(
          (n) => logger.info({ ids: n }, 'recent event ids rebuilt'),
          (err: unknown) => logger.warn({ err }, 'could not rebuild recent event ids'),
        ),
        // On failure nothing is covered: every visit memory lacks is looked up, as before a rebuild.
        deps.visits?.rebuild().then(
          (n) => logger.info({ visits: n }, 'written visits rebuilt'),
          (err: unknown) => logger.warn({ err }, 'could not rebuild written visits'),
        ),
      ])
    })
    c.on(c.events.CRASH, (e) => {
      logger.error({ err: e.payload.error, restart: e.payload.restart }, 'consumer crashed')
      if (e.payload.restart || stopped) return
      running = false
      batchers.clear()
      void c.disconnect().catch(() => {}).then(relaunch)
    })
    await c.connect()
    await c.subscribe({ topic: options.rawTopic, fromBeginning: true })
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently,
      eachBatch: async (payload) => {
        const { batch } = payload
        await rebuilt
        if (batch.isEmpty()) return
        const batcher = await batcherFor(batch.partition, batch.firstOffset() ?? '0')
        batcher.add(batch.messages)
        payload.resolveOffset(batch.lastOffset())
        for (let sealed = batcher.seal(); sealed; sealed = batcher.seal()) {
          const done = await writeSealed(batch.topic, batch.partition, sealed, batcher.recovering, payload)
          if (!done) {
            // Rebalance or shutdown mid-retry: leave the recorded range for whoever owns the partition next.
            batchers.delete(batch.partition)
            return
          }
          batcher.advance(sealed.end)
        }
      },
    })
    running = true
  }
  /** Launches again with backoff until it works or the processor stops. */
  const relaunch = async (): Promise<void> => {
    for (let attempt = 0; !stopped; attempt++) {
      await new Promise((r) => setTimeout(r, 500 + backoffDelay(Math.min(attempt, 5), { initialMs: 1_000, maxMs: 10_000 })))
      if (stopped) return
      try {
        await launch()
        logger.info('consumer relaunched')
        return
      } catch (err) {
        logger.error({ err }, 'consumer relaunch failed; retrying')
        await consumer.disconnect().catch(() => {})
      }
    }
  }
  await launch()

  return {
    ready: () => running,
    stop: async () => {
      stopped = true
      running = false
      await consumer.disconnect()
      await Promise.all([producer.disconnect(), admin.disconnect()])
    },
  }
}
