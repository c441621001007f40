import { createLogger, exitOnSignals, listen } from '@atspark/runtime'
import { parseProcessorEnv } from './env.js'
import { startKafkaProcessor } from './kafka-processor.js'
import { createOperatorApp } from './operator-app.js'

// `node processor/dist/main.js`: one consumer-group member writing Kafka to the warehouse; run one per few partitions.
// Analysts are served by the back office, its own service (`node backoffice/dist/main.js`).
const env = parseProcessorEnv()
const logger = createLogger('atspark-processor', env.LOG_LEVEL)
if (env.KAFKA_BROKERS.length === 0) {
  logger.fatal('KAFKA_BROKERS is not set: the standalone processor consumes Kafka (npm start runs the embedded pipeline instead)')
  process.exit(2)
}
const processor = await startKafkaProcessor(env, logger)
// Parsed whole before the swap; a bad file keeps the current tenants. Logged and audited either way.
process.on('SIGHUP', () => void processor.privacy.reloadTenants())
const operator = await listen(
  createOperatorApp({ warehouse: processor.warehouse, registries: [processor.registry], readiness: processor.readiness, failpoint: processor.failpoint }),
  env.PROCESSOR_PORT,
  env.PROCESSOR_HOST,
)
logger.info({ port: operator.port, topic: env.ATSPARK_TOPIC_RAW, group: env.KAFKA_GROUP_ID }, 'processor consuming')

// Leave the group after the batch in hand (an unfinished one is re-formed by the next owner), then close the rest, all within the bound.
exitOnSignals(
  async () => {
    await processor.stop(() => operator.close(1_000))
  },
  { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, logger },
)
