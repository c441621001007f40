import { createBackofficeApp, startPrivacyApi } from '@atspark/backoffice'
import { failpointRoutes, startKafkaProcessor } from '@atspark/processor'
import { compileTrust, createLogger, exitOnSignals, listen } from '@atspark/runtime'
import { parseServerEnv } from './env.js'

// `node server/dist/main-single-node.js`: one Kafka processor and the back office in one process, for one machine whose
// warehouse is chDB (chDB lets one process open a data directory). With a ClickHouse server, run
// `node processor/dist/main.js` and `node backoffice/dist/main.js` instead, so analysts never share the consumer's process.
const env = parseServerEnv()
const logger = createLogger('atspark-processor', env.LOG_LEVEL)
if (env.KAFKA_BROKERS.length === 0) {
  logger.fatal('KAFKA_BROKERS is not set: this process consumes Kafka (npm start runs the embedded pipeline instead)')
  process.exit(2)
}
const processor = await startKafkaProcessor(env, logger)
process.on('SIGHUP', () => void processor.privacy.reloadTenants())
// Same process as the pipeline: suppress and unsuppress change its suppression set at once.
const privacyApi = startPrivacyApi({
  tenants: () => processor.tenants.current(),
  store: processor.privacy.store,
  pseudonymize: processor.privacy.pseudonymize,
  suppressions: processor.privacy.suppressions,
  logger,
  refusals: { ratePerSecond: env.BACKOFFICE_REFUSED_RPS, burst: env.BACKOFFICE_REFUSED_BURST, maxTracked: env.BACKOFFICE_REFUSED_MAX_TRACKED },
  trust: compileTrust(env.TRUSTED_PROXIES),
  registry: processor.registry,
})
const backoffice = await listen(
  createBackofficeApp({
    warehouse: processor.warehouse,
    registries: [processor.registry],
    readiness: processor.readiness,
    routes: failpointRoutes(processor.failpoint),
    privacy: privacyApi.api,
    stats: { warehouse: processor.warehouse, tenants: privacyApi.api.tenants, logger, k: env.STATS_K_ANONYMITY },
  }),
  env.BACKOFFICE_PORT,
  env.BACKOFFICE_HOST,
)
logger.info({ backoffice: backoffice.port, topic: env.ATSPARK_TOPIC_RAW, group: env.KAFKA_GROUP_ID }, 'processor consuming')

exitOnSignals(
  async () => {
    // Leave the group first (the batch in hand is finished or re-formed by the next owner); the refusal counts are written before the warehouse closes.
    await processor.stop(async () => {
      await Promise.all([backoffice.close(1_000), privacyApi.stop()])
    })
  },
  { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, logger },
)
