import { type Admin, Kafka, logLevel } from 'kafkajs'
import type { ServiceEnv } from '../env.js'
import type { Logger } from '../logger.js'

export type KafkaEnv = Pick<
  ServiceEnv,
  | 'KAFKA_BROKERS'
  | 'KAFKA_CLIENT_ID'
  | 'ATSPARK_TOPIC_RAW'
  | 'ATSPARK_TOPIC_DLQ'
  | 'KAFKA_RAW_PARTITIONS'
  | 'KAFKA_RAW_RETENTION_MS'
  | 'KAFKA_DLQ_RETENTION_MS'
  | 'KAFKA_REPLICATION_FACTOR'
>

/** One kafkajs client per process, logging through pino at warn and above. */
export function createKafka(env: KafkaEnv, logger: Logger): Kafka {
  return new Kafka({
    clientId: env.KAFKA_CLIENT_ID,
    brokers: env.KAFKA_BROKERS,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log
        if (level <= logLevel.ERROR) logger.error({ kafka: extra }, message)
        else logger.warn({ kafka: extra }, message)
      },
    retry: { initialRetryTime: 100, retries: 5, maxRetryTime: 2_000 },
  })
}

/** Creates the raw and DLQ topics when missing, with their partitions and retention; existing topics are left as they are. */
export async function ensureTopics(admin: Admin, env: KafkaEnv): Promise<void> {
  const existing = new Set(await admin.listTopics())
  const wanted = [
    { topic: env.ATSPARK_TOPIC_RAW, numPartitions: env.KAFKA_RAW_PARTITIONS, retention: env.KAFKA_RAW_RETENTION_MS },
    { topic: env.ATSPARK_TOPIC_DLQ, numPartitions: 1, retention: env.KAFKA_DLQ_RETENTION_MS },
  ].filter((t) => !existing.has(t.topic))
  if (wanted.length === 0) return
  await admin.createTopics({
    waitForLeaders: true,
    topics: wanted.map((t) => ({
      topic: t.topic,
      numPartitions: t.numPartitions,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
      configEntries: [
        { name: 'retention.ms', value: String(t.retention) },
        { name: 'cleanup.policy', value: 'delete' },
      ],
    })),
  })
}
