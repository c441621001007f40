import {
  BatchingWriter,
  compileTrust,
  createIngestApp,
  createIngestMetrics,
  createLogger,
  demoTenants,
  listen,
  type RunningServer,
  TenantDirectory,
} from '@atspark/ingest'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { createBackofficeApp } from './backoffice.js'
import { createDemoApp } from './demo/site.js'
import { pseudonymizer } from './enrich/event-rows.js'
import { openGeo } from './enrich/geo.js'
import type { ProcessorEnv } from './env.js'
import { loadHmacSecret } from './hmac-secret.js'
import { EmbeddedBus } from './pipeline/embedded-bus.js'
import { toRecords } from './pipeline/to-records.js'
import { createWarehouseClient, warehouseKind } from './warehouse/client.js'
import { type WarehouseRecord, recordWriter } from './warehouse/record-writer.js'
import { migrate } from './warehouse/migrations.js'

export interface EmbeddedPipeline {
  urls: { ingest: string; backoffice: string; demo: string }
  /** Drains in-flight batches into the warehouse, then closes everything; safe to call twice. */
  stop(): Promise<void>
}

/** Every server keeps this long to finish in-flight requests before its sockets are cut. */
const CLOSE_GRACE_MS = 10_000

/** The embedded default: ingest, processor, warehouse (chDB unless CLICKHOUSE_URL), back office and demo in one process. */
export async function startEmbedded(env: ProcessorEnv): Promise<EmbeddedPipeline> {
  const logger = createLogger('atspark', env.LOG_LEVEL)
  const target = { url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, dataDir: env.ATSPARK_DATA_DIR }
  const warehouse = createWarehouseClient(target)
  const migration = await migrate(warehouse)
  logger.info({ warehouse: warehouseKind(target), applied: migration.applied, version: migration.current }, 'warehouse migrated')

  const [geo, secret] = await Promise.all([openGeo(env.GEOIP_DB), loadHmacSecret(env.ATSPARK_HMAC_SECRET, env.ATSPARK_DATA_DIR)])
  const pseudonymize = pseudonymizer(() => secret)
  const writeRecords = recordWriter(warehouse)
  const writer = new BatchingWriter<WarehouseRecord>((records) => writeRecords(records), {
    maxItems: env.WRITE_BATCH_MAX_ROWS,
    lingerMs: env.WRITE_LINGER_MS,
    maxQueuedItems: env.WRITE_MAX_QUEUED_ROWS,
  })
  const bus = new EmbeddedBus((message) => toRecords(message, { geo, pseudonymize }), writer)

  const servers: RunningServer[] = []
  try {
    const demoServerPort = env.DEMO_PORT
    // The demo's port must be known before ingest starts: it is the demo tenant's allowed origin.
    const ingestRegistry = new Registry()
    collectDefaultMetrics({ register: ingestRegistry, prefix: 'atspark_' })
    const metrics = createIngestMetrics(ingestRegistry)
    let tenants: TenantDirectory | undefined
    const ingestApp = createIngestApp({
      tenants: () => {
        if (!tenants) throw new Error('tenants not loaded')
        return tenants
      },
      bus,
      trust: compileTrust(env.TRUSTED_PROXIES),
      metrics,
      logger,
      bodyLimitBytes: env.INGEST_BODY_LIMIT,
    })
    const ingest = await listen(ingestApp, env.INGEST_PORT, env.INGEST_HOST)
    servers.push(ingest)
    const ingestUrl = `http://localhost:${ingest.port}`
    const demo = await listen(createDemoApp(ingestUrl), demoServerPort, env.DEMO_HOST)
    servers.push(demo)
    tenants = env.ATSPARK_TENANTS_FILE ? await TenantDirectory.load(env.ATSPARK_TENANTS_FILE) : TenantDirectory.from(demoTenants(demo.port))
    const backoffice = await listen(createBackofficeApp({ warehouse, registries: [ingestRegistry] }), env.BACKOFFICE_PORT, env.BACKOFFICE_HOST)
    servers.push(backoffice)

    let stopping: Promise<void> | undefined
    const stop = () => {
      stopping ??= (async () => {
        // Order matters: stop taking batches, let in-flight ones reach the warehouse, then close the engine.
        await closeWithin(ingest, CLOSE_GRACE_MS)
        await bus.close()
        await Promise.all([closeWithin(demo, CLOSE_GRACE_MS), closeWithin(backoffice, CLOSE_GRACE_MS)])
        await warehouse.close()
        logger.info('stopped cleanly')
      })()
      return stopping
    }
    return {
      urls: { ingest: ingestUrl, backoffice: `http://localhost:${backoffice.port}`, demo: `http://localhost:${demo.port}` },
      stop,
    }
  } catch (err) {
    await Promise.allSettled(servers.map((s) => s.close()))
    await bus.close()
    await warehouse.close()
    throw err
  }
}

async function closeWithin(server: RunningServer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([server.close(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))])
  clearTimeout(timer)
}
