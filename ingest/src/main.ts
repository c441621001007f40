import { Partitioners } from 'kafkajs'
import { collectDefaultMetrics, Gauge } from 'prom-client'
import { createIngestApp } from './app.js'
import { edgeDepsFromEnv, edgeListenOptions } from './edge-deps.js'
import { parseIngestEnv } from './env.js'
import { loadServiceIpKeys, createKafka, ensureTopics, KafkaHealth, createLogger, listen, exitOnSignals, demoTenants, reloadOnSighup, TenantStore } from '@atspark/runtime'
import { KafkaBus } from './kafka/kafka-bus.js'
import { createIngestMetrics } from './metrics.js'

// `node ingest/dist/main.js`: the stateless public edge producing to Kafka; run as many as needed.
const env = parseIngestEnv()
const logger = createLogger('atspark-ingest', env.LOG_LEVEL)
if (env.KAFKA_BROKERS.length === 0) {
  logger.fatal('KAFKA_BROKERS is not set: standalone ingest needs Kafka (npm start runs the embedded pipeline instead)')
  process.exit(2)
}
const tenants = await TenantStore.open(env.ATSPARK_TENANTS_FILE, () => demoTenants(3000))
if (!env.ATSPARK_TENANTS_FILE) logger.warn('ATSPARK_TENANTS_FILE is not set: serving the demo tenant only')
// Ingest cannot write the warehouse, so a reload is only logged here (the processor audits its own).
reloadOnSighup(tenants, (result) => {
  if (result.ok) logger.info({ file: tenants.file, ...result.directory.summary() }, 'tenants reloaded')
  else logger.error({ file: tenants.file, error: result.error.message }, 'tenants reload failed; keeping the current config')
})
const ipKeys = await loadServiceIpKeys(env, logger)

const kafka = createKafka(env, logger)
const admin = kafka.admin()
await admin.connect()
await ensureTopics(admin, env)
await admin.disconnect()
// Not idempotent: kafkajs marks it experimental; duplicates from producer retries are dropped by event id downstream (docs/kafka.md).
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, idempotent: false, maxInFlightRequests: 1, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 } })
await producer.connect()
const metrics = createIngestMetrics()
collectDefaultMetrics({ register: metrics.registry, prefix: 'atspark_ingest_' })
// Its own quiet client without retries: the probe interval is the retry, and an outage is logged once by the probe.
const health = new KafkaHealth(createKafka(env, logger.child({}, { level: 'silent' })).admin({ retry: { retries: 0 } }), {
  topic: env.ATSPARK_TOPIC_RAW,
  intervalMs: env.KAFKA_HEALTH_INTERVAL_MS,
  timeoutMs: Math.max(1_000, env.KAFKA_HEALTH_INTERVAL_MS),
  logger,
  gauge: new Gauge({ name: 'atspark_ingest_kafka_reachable', help: '1 while the broker answers the readiness probe, else 0', registers: [metrics.registry] }),
})
await health.start()
const bus = new KafkaBus(producer, {
  topic: env.ATSPARK_TOPIC_RAW,
  lingerMs: env.KAFKA_LINGER_MS,
  maxBatchMessages: env.KAFKA_BATCH_MAX_MESSAGES,
  maxQueuedMessages: env.KAFKA_MAX_QUEUED_MESSAGES,
  maxQueuedPerSite: Math.max(1, Math.floor(env.KAFKA_MAX_QUEUED_MESSAGES * env.BUS_SITE_QUEUE_SHARE)),
  timeoutMs: env.KAFKA_PRODUCE_TIMEOUT_MS,
  metrics,
  health,
})
metrics.watchQueue(() => bus.queued)
const app = createIngestApp({
  tenants: () => tenants.current(),
  bus,
  ipKeyring: () => ipKeys.keyring,
  metrics,
  logger,
  ...edgeDepsFromEnv(env),
})
app.get('/metrics', async (c) => {
  c.header('Content-Type', metrics.registry.contentType)
  return c.body(await metrics.registry.metrics())
})
// Request and body deadlines, connection bounds (total from the open-file limit, per address), refusals counted.
const server = await listen(app, env.INGEST_PORT, env.INGEST_HOST, edgeListenOptions(env, metrics, logger))
logger.info({ port: server.port, topic: env.ATSPARK_TOPIC_RAW }, 'ingest listening')

// Stop taking requests (in-flight ones finish, sockets cut at the bound), flush what Kafka has not acked yet, then leave.
exitOnSignals(
  async () => {
    await server.close(Math.floor(env.SHUTDOWN_TIMEOUT_MS / 2))
    await bus.close()
    await health.stop()
  },
  { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, logger },
)
