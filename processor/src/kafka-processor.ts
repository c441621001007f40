import { createKafka, deriveOrgSecret, demoTenants, ensureTopics, KafkaHealth, type Logger, loadHmacSecret, loadServiceIpKeys, type ReadinessCheck, TenantStore } from '@atspark/runtime'
import { openServiceWarehouse, writesDataDir } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { RecentEventIds } from './dedup/recent-ids.js'
import { ipOpener } from './enrich/event-rows.js'
import { openGeo } from './enrich/geo.js'
import type { ProcessorEnv } from './env.js'
import { WarehouseFailpoint } from './failpoints.js'
import { CommitFailpoint } from './kafka/commit-failpoint.js'
import { startConsumer } from './kafka/consumer.js'
import { consumerLagGauge, createProcessorMetrics } from './metrics.js'
import { toRecords } from './pipeline/to-records.js'
import { warehouseWrites } from './pipeline/warehouse-writes.js'
import { type PrivacyRuntime, startPrivacy } from './privacy/runtime.js'
import { WriteHealth } from './write-health.js'

export interface KafkaProcessor {
  warehouse: ClickHouseClient
  tenants: TenantStore
  /** Pseudonyms, suppressions, TTLs and site retention: a back office in the same process (single node on chDB) shares them. */
  privacy: PrivacyRuntime
  registry: Registry
  /** Kafka answers, the consumer is in its group, warehouse writes succeed (the warehouse ping comes after). */
  readiness: ReadinessCheck[]
  failpoint: WarehouseFailpoint
  /** Leaves the group after the batch in hand, then closes the Kafka clients and timers, runs `beforeWarehouseClose`, and closes the warehouse. */
  stop(beforeWarehouseClose?: () => Promise<void>): Promise<void>
}

/** One consumer-group member writing Kafka to the warehouse (`node processor/dist/main.js`); it serves no analyst. */
export async function startKafkaProcessor(env: ProcessorEnv, logger: Logger): Promise<KafkaProcessor> {
  // Rotation: add the new key here first; drop an old one only once the raw topic's retention has passed.
  const ipKeys = await loadServiceIpKeys(env, logger)
  const openIp = ipOpener(() => ipKeys.keyring)
  const warehouse = await openServiceWarehouse(env, logger, writesDataDir(env))
  const [geo, secret] = await Promise.all([openGeo(env.GEOIP_DB), loadHmacSecret(env.ATSPARK_HMAC_SECRET, env.ATSPARK_DATA_DIR)])
  const tenants = await TenantStore.open(env.ATSPARK_TENANTS_FILE, () => demoTenants(3000, { hmacSecret: deriveOrgSecret(secret, 'demo').toString('base64') }))
  if (!env.ATSPARK_TENANTS_FILE) logger.warn('ATSPARK_TENANTS_FILE is not set: the demo tenant only')
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'atspark_processor_' })
  const privacy = await startPrivacy({
    warehouse,
    tenants,
    masterSecret: secret,
    logger,
    auditLogTtlMonths: env.AUDIT_LOG_TTL_MONTHS,
    privacyRequestsTtlMonths: env.PRIVACY_REQUESTS_TTL_MONTHS,
    rollupTtlMonths: env.ROLLUP_TTL_MONTHS,
    suppressionRefreshMs: env.SUPPRESSION_REFRESH_MS,
  })

  const kafka = createKafka(env, logger)
  const admin = kafka.admin()
  await admin.connect()
  await ensureTopics(admin, env)
  await admin.disconnect()

  const metrics = createProcessorMetrics(registry)
  const failpoint = new WarehouseFailpoint(env.ATSPARK_FAILPOINTS === '1')
  const writeHealth = new WriteHealth()
  const writes = warehouseWrites(warehouse, { metrics, health: writeHealth, failpoint, visitCacheMax: env.PROCESSOR_VISIT_CACHE_MAX })
  // Its own quiet client without retries: the probe interval is the retry, and an outage is logged once by the probe.
  const quietKafka = createKafka(env, logger.child({}, { level: 'silent' }))
  const health = new KafkaHealth(quietKafka.admin({ retry: { retries: 0 } }), {
    topic: env.ATSPARK_TOPIC_RAW,
    intervalMs: env.KAFKA_HEALTH_INTERVAL_MS,
    timeoutMs: Math.max(1_000, env.KAFKA_HEALTH_INTERVAL_MS),
    logger,
    gauge: new Gauge({ name: 'atspark_processor_kafka_reachable', help: '1 while the broker answers the readiness probe, else 0', registers: [registry] }),
  })
  await health.start()
  const lagAdmin = quietKafka.admin({ retry: { retries: 0 } })
  await lagAdmin.connect()
  consumerLagGauge(registry, async () => {
    const [ends, committed] = await Promise.all([
      lagAdmin.fetchTopicOffsets(env.ATSPARK_TOPIC_RAW),
      lagAdmin.fetchOffsets({ groupId: env.KAFKA_GROUP_ID, topics: [env.ATSPARK_TOPIC_RAW] }),
    ])
    const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? [])
    // No committed offset yet (-1) means nothing of the partition is done: its lag is everything from its low watermark.
    return new Map(ends.map((p) => [p.partition, Number(p.high) - Math.max(Number(p.low), done.get(p.partition) ?? -1)]))
  })
  const consumer = await startConsumer(
    {
      groupId: env.KAFKA_GROUP_ID,
      rawTopic: env.ATSPARK_TOPIC_RAW,
      dlqTopic: env.ATSPARK_TOPIC_DLQ,
      sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
      partitionsConsumedConcurrently: env.KAFKA_PARTITIONS_CONCURRENTLY,
    },
    {
      kafka,
      warehouse,
      writeRecords: writes.write,
      visits: writes.visits,
      toRecords: (message) => toRecords(message, { geo, pseudonymize: privacy.pseudonymize, openIp, ...privacy.recordDeps }),
      recentIds: new RecentEventIds(env.RECENT_IDS_MAX, env.RECENT_IDS_WINDOW_SECONDS),
      logger,
      metrics,
      failpoint: new CommitFailpoint(env.ATSPARK_FAILPOINTS === '1' ? env.ATSPARK_FAILPOINT_KILL : undefined),
    },
  )
  return {
    warehouse,
    tenants,
    privacy,
    registry,
    readiness: [
      { reason: 'kafka unreachable', ok: () => health.ready() },
      { reason: 'not consuming', ok: consumer.ready },
      { reason: 'warehouse writes failing', ok: () => writeHealth.ok() },
    ],
    failpoint,
    async stop(beforeWarehouseClose) {
      await consumer.stop()
      await Promise.all([health.stop(), lagAdmin.disconnect()])
      await privacy.stop()
      await beforeWarehouseClose?.()
      await warehouse.close()
    },
  }
}
