import { Partitioners } from 'kafkajs'
import { createIngestApp } from './app.js'
import { compileTrust } from './client-ip.js'
import { parseIngestEnv } from './env.js'
import { loadServiceIpKeys } from './ip-keys.js'
import { createKafka, ensureTopics } from './kafka/client.js'
import { KafkaBus } from './kafka/kafka-bus.js'
import { createLogger } from './logger.js'
import { createIngestMetrics } from './metrics.js'
import { listen } from './server.js'
import { demoTenants, reloadOnSighup, TenantStore } from './tenants.js'

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
const bus = new KafkaBus(producer, {
  topic: env.ATSPARK_TOPIC_RAW,
  lingerMs: env.KAFKA_LINGER_MS,
  maxBatchMessages: env.KAFKA_BATCH_MAX_MESSAGES,
  maxQueuedMessages: env.KAFKA_MAX_QUEUED_MESSAGES,
  timeoutMs: env.KAFKA_PRODUCE_TIMEOUT_MS,
})
const metrics = createIngestMetrics()
const app = createIngestApp({ tenants: () => tenants.current(), bus, trust: compileTrust(env.TRUSTED_PROXIES), ipKeyring: () => ipKeys.keyring, metrics, logger, bodyLimitBytes: env.INGEST_BODY_LIMIT })
app.get('/metrics', async (c) => {
  c.header('Content-Type', metrics.registry.contentType)
  return c.body(await metrics.registry.metrics())
})
const server = await listen(app, env.INGEST_PORT, env.INGEST_HOST)
logger.info({ port: server.port, topic: env.ATSPARK_TOPIC_RAW }, 'ingest listening')

let stopping = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    if (stopping) return
    stopping = true
    await server.close()
    await bus.close()
    logger.info('ingest stopped cleanly')
    process.exit(0)
  })
}
