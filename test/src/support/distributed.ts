import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { freePort } from './ports.js'
import { ENTRY, type Service, spawnService } from './service.js'

/** The origin every distributed test posts from (no browser here, just the header). */
export const TEST_ORIGIN = 'http://localhost:3999'

/** Two orgs, so tests can show the same event id under two orgs is two events. */
export const WRITE_KEYS = { a: 'pk_org_a', b: 'pk_org_b' } as const

export interface Distributed {
  ingestUrl: string
  backofficeUrl: string
  rawTopic: string
  dlqTopic: string
  groupId: string
  dataDir: string
  kafka: Kafka
  ingest: Service
  processor: Service
  /** Starts a new processor process on the same topics, group and data dir (after a kill or stop). */
  restartProcessor(): Promise<Service>
  /** Resolves when the group has committed every offset the raw topic holds. */
  waitDrained(timeoutMs?: number): Promise<void>
  /** Committed-offset lag summed over the raw topic's partitions. */
  lag(): Promise<number>
  stopAll(): Promise<void>
}

/** Ingest and processor as separate built processes on a real broker, with fresh topics and group per call. */
export async function startDistributed(brokers: string, extraProcessorEnv: Record<string, string> = {}): Promise<Distributed> {
  const id = randomUUID().slice(0, 8)
  const rawTopic = `atspark.events.raw.t${id}`
  const dlqTopic = `atspark.events.dlq.t${id}`
  const groupId = `atspark-processor-t${id}`
  const dir = mkdtempSync(join(tmpdir(), 'atspark-dist-'))
  const tenantsFile = join(dir, 'tenants.json')
  writeFileSync(
    tenantsFile,
    JSON.stringify({
      orgs: [
        { id: 'org-a', name: 'A', sites: [{ id: 'web', write_key: WRITE_KEYS.a, allowed_origins: [TEST_ORIGIN], consent_mode: 'opt-out' }] },
        { id: 'org-b', name: 'B', sites: [{ id: 'web', write_key: WRITE_KEYS.b, allowed_origins: [TEST_ORIGIN], consent_mode: 'opt-out' }] },
      ],
    }),
  )
  const shared = {
    KAFKA_BROKERS: brokers,
    ATSPARK_TOPIC_RAW: rawTopic,
    ATSPARK_TOPIC_DLQ: dlqTopic,
    KAFKA_RAW_PARTITIONS: '4',
    ATSPARK_TENANTS_FILE: tenantsFile,
    LOG_LEVEL: 'info',
  }
  const [ingestPort, backofficePort] = [await freePort(), await freePort()]
  const ingestUrl = `http://127.0.0.1:${ingestPort}`
  const backofficeUrl = `http://127.0.0.1:${backofficePort}`
  const ingest = await spawnService(ENTRY.ingest, { ...shared, INGEST_PORT: String(ingestPort), KAFKA_PRODUCE_TIMEOUT_MS: '3000' }, [`${ingestUrl}/healthz`])
  const processorEnv = {
    ...shared,
    BACKOFFICE_PORT: String(backofficePort),
    ATSPARK_DATA_DIR: join(dir, 'warehouse'),
    KAFKA_GROUP_ID: groupId,
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    ...extraProcessorEnv,
  }
  const startProcessor = () => spawnService(ENTRY.processor, processorEnv, [`${backofficeUrl}/readyz`])
  const kafka = new Kafka({ clientId: 'atspark-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()

  const lag = async () => {
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(rawTopic), admin.fetchOffsets({ groupId, topics: [rawTopic] })])
    const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? [])
    return ends.reduce((sum, p) => sum + Number(p.high) - Math.max(0, done.get(p.partition) ?? 0), 0)
  }
  const d: Distributed = {
    ingestUrl,
    backofficeUrl,
    rawTopic,
    dlqTopic,
    groupId,
    dataDir: processorEnv.ATSPARK_DATA_DIR,
    kafka,
    ingest,
    processor: await startProcessor(),
    restartProcessor: async () => {
      d.processor = await startProcessor()
      return d.processor
    },
    lag,
    waitDrained: async (timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const remaining = await lag().catch(() => Number.NaN)
        if (remaining === 0) return
        if (Date.now() > deadline) throw new Error(`consumer lag still ${remaining} after ${timeoutMs} ms:\n${d.processor.output().slice(-3000)}`)
        await new Promise((r) => setTimeout(r, 250))
      }
    },
    stopAll: async () => {
      await Promise.all([d.ingest.stop(), d.processor.stop()])
      await admin.disconnect()
    },
  }
  return d
}
