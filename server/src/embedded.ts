import { createBackofficeApp, startPrivacyApi } from '@atspark/backoffice'
import { createIngestApp, createIngestMetrics, edgeDepsFromEnv, edgeListenOptions } from '@atspark/ingest'
import {
  createProcessorMetrics,
  EmbeddedBus,
  ipOpener,
  openGeo,
  type PrivacyRuntime,
  RecentEventIds,
  rememberWritten,
  startPrivacy,
  toRecords,
  WriteHealth,
  warehouseWrites,
  withoutSeenEvents,
} from '@atspark/processor'
import {
  BatchingWriter,
  compileTrust,
  createLogger,
  deriveOrgSecret,
  generateApiKey,
  IpKeys,
  type Logger,
  listen,
  loadHmacSecret,
  type RunningServer,
  reloadIpKeys,
  sealIp,
  TenantStore,
} from '@atspark/runtime'
import { openServiceWarehouse, type WarehouseRecord } from '@atspark/warehouse'
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import { localUrl } from './dev-env.js'
import type { ServerEnv } from './env.js'
import { publishInChunks, type SeedResult, warehouseHasNoEvents } from './demo/seed.js'
import { createDemoApp } from './demo/site.js'
import { DEMO_ORG, type DemoTrafficSite, demoTrafficSites } from './demo/sites.js'
import { demoOrgTenants } from './demo/tenants.js'
import { demoTraffic } from './demo/traffic.js'

export interface EmbeddedPipeline {
  urls: { ingest: string; backoffice: string; demo: string }
  /** Drains in-flight batches into the warehouse, then closes everything; safe to call twice. */
  stop(): Promise<void>
  /** Re-reads the IP keys file (SIGHUP); a bad file keeps the current keys. */
  reloadIpKeys(): Promise<void>
  /** Re-reads ATSPARK_TENANTS_FILE (SIGHUP): parsed whole first, a bad file keeps the current config; audited. */
  reloadTenants(): Promise<void>
  /** Without a tenants file: a back-office key (role privacy) for the demo org, minted at start for trying the privacy API. */
  demoPrivacyKey?: string
  /** Without a tenants file: a back-office key (role analyst) for the demo org, minted at start for the dashboard and the stats API. */
  demoAnalystKey?: string
  /** Without a tenants file: a back-office key (role admin, id `demo-admin`) for the demo org, for shared links and both APIs. */
  demoAdminKey?: string
  /** The back office as a client on this machine reaches it (its bound host, loopback for a wildcard bind), e.g. `http://127.0.0.1:8081`. */
  backofficeLocalUrl: string
  /** Ingest as a client on this machine reaches it, e.g. `http://127.0.0.1:8080`. */
  ingestLocalUrl: string
  /** True when start-up began generating demo traffic in the background (logged as "demo traffic seeded" when done). */
  seedingDemoTraffic: boolean
}

/** Every server keeps this long to finish in-flight requests before its sockets are cut. */
const CLOSE_GRACE_MS = 10_000

/** The embedded default: ingest, processor, warehouse (chDB unless CLICKHOUSE_URL), back office and demo in one process. */
export async function startEmbedded(env: ServerEnv, options: { logger?: Logger } = {}): Promise<EmbeddedPipeline> {
  const logger = options.logger ?? createLogger('atspark', env.LOG_LEVEL)
  // Always private: the IP keys are generated there too, whatever the warehouse.
  const warehouse = await openServiceWarehouse(env, logger, true)
  // Decided before ingest listens, so the first live demo event cannot make a fresh start look seeded.
  const seedDemo = env.DEMO_TRAFFIC === '1' && !env.ATSPARK_TENANTS_FILE && (await warehouseHasNoEvents(warehouse, DEMO_ORG))

  const [geo, secret] = await Promise.all([openGeo(env.GEOIP_DB), loadHmacSecret(env.ATSPARK_HMAC_SECRET, env.ATSPARK_DATA_DIR)])
  // Tenants load once the demo's port is known; nothing reaches toRecords before (ingest refuses until then).
  let privacy: PrivacyRuntime | undefined
  const pipelinePrivacy = (): PrivacyRuntime => {
    if (!privacy) throw new Error('tenants not loaded')
    return privacy
  }
  // Configured keys, else one minted once into the data dir: one process seals and opens.
  const ipKeys = await IpKeys.load(env, { generateIn: env.ATSPARK_DATA_DIR })
  logger.info(ipKeys.describe(), 'IP keys loaded')
  const openIp = ipOpener(() => ipKeys.keyring)
  // Warehouse metrics (insert latency, failures, batch sizes) and write health, on their own registry merged into /metrics.
  const processorRegistry = new Registry()
  const processorMetrics = createProcessorMetrics(processorRegistry)
  const writeHealth = new WriteHealth()
  // The same write as the Kafka consumer's: visit values stamped, then the insert, with metrics and health.
  const { write: writeRecords, visits } = warehouseWrites(warehouse, { metrics: processorMetrics, health: writeHealth, visitCacheMax: env.PROCESSOR_VISIT_CACHE_MAX })
  // SDK retries reuse event ids: as the Kafka consumer does, drop ids already written (rebuilt from the warehouse at
  // start). One insert at a time, so a retry that arrives while its original is being written is checked after it.
  const recentIds = new RecentEventIds(env.RECENT_IDS_MAX, env.RECENT_IDS_WINDOW_SECONDS)
  // Both read the warehouse once, side by side: which visits it holds (so a new visit needs no lookup; the Kafka consumer
  // does this on every rebalance) and the recent event ids.
  const [visitCount, idCount] = await Promise.all([visits.rebuild(), recentIds.rebuild(warehouse)])
  logger.info({ visits: visitCount }, 'written visits rebuilt')
  logger.info({ ids: idCount }, 'recent event ids rebuilt')
  const waitSeconds = writePhaseHistogram(processorRegistry)
  const writer = new BatchingWriter<WarehouseRecord>(
    async (records) => {
      const { kept, duplicates } = withoutSeenEvents(records, recentIds)
      await writeRecords(kept)
      rememberWritten(kept, recentIds)
      if (duplicates) processorMetrics.duplicates.inc(duplicates)
    },
    {
      maxItems: env.WRITE_BATCH_MAX_ROWS,
      lingerMs: env.WRITE_LINGER_MS,
      maxQueuedItems: env.WRITE_MAX_QUEUED_ROWS,
      maxQueuedPerKey: Math.max(1, Math.floor(env.WRITE_MAX_QUEUED_ROWS * env.BUS_SITE_QUEUE_SHARE)),
      onSettle: ({ lingerSeconds, blockedSeconds, writeSeconds }) => {
        waitSeconds.observe({ phase: 'linger' }, lingerSeconds)
        waitSeconds.observe({ phase: 'blocked' }, blockedSeconds)
        waitSeconds.observe({ phase: 'write' }, writeSeconds)
      },
    },
  )
  const bus = new EmbeddedBus(
    (message) => toRecords(message, { geo, pseudonymize: pipelinePrivacy().pseudonymize, openIp, ...pipelinePrivacy().recordDeps }),
    writer,
    writeHealth,
  )

  /** Generated traffic for every demo site through the real path (sealed IPs, enrichment, pseudonyms, suppression); never rejects. */
  const seedDemoTraffic = async (sites: DemoTrafficSite[], signal: AbortSignal): Promise<SeedResult | undefined> => {
    const started = Date.now()
    logger.info({ sites: sites.map((s) => s.siteId) }, 'generating demo traffic in the background')
    function* messages() {
      for (const site of sites) {
        const context = { orgId: DEMO_ORG, siteId: site.siteId }
        yield* demoTraffic({
          ...context,
          siteUrl: site.origin,
          profile: site.profile,
          visitors: site.visitors,
          seed: site.seed,
          now: started,
          seal: (ip) => sealIp(ip, ipKeys.keyring, context),
        })
      }
    }
    try {
      const result = await publishInChunks(bus, messages(), { signal })
      const summary = { events: result.events, receipts: result.receipts, sites: sites.length, seconds: (Date.now() - started) / 1000 }
      if (result.complete) logger.info(summary, 'demo traffic seeded')
      else logger.warn(summary, 'demo traffic stopped early by shutdown')
      return result
    } catch (err) {
      logger.error({ reason: (err as Error).message }, 'demo traffic failed')
      return undefined
    }
  }

  const servers: RunningServer[] = []
  try {
    const demoServerPort = env.DEMO_PORT
    // The demo's port must be known before ingest starts: it is the demo tenant's allowed origin.
    const ingestRegistry = new Registry()
    collectDefaultMetrics({ register: ingestRegistry, prefix: 'atspark_' })
    const metrics = createIngestMetrics(ingestRegistry)
    metrics.watchQueue(() => writer.queuedItems)
    let tenants: TenantStore | undefined
    const ingestApp = createIngestApp({
      tenants: () => {
        if (!tenants) throw new Error('tenants not loaded')
        return tenants.current()
      },
      bus,
      ipKeyring: () => ipKeys.keyring,
      metrics,
      logger,
      ...edgeDepsFromEnv(env),
    })
    // Request and body deadlines and connection bounds, as standalone ingest has them; the fd reserve covers the warehouse.
    const ingest = await listen(ingestApp, env.INGEST_PORT, env.INGEST_HOST, edgeListenOptions(env, metrics, logger))
    servers.push(ingest)
    const ingestUrl = `http://localhost:${ingest.port}`
    const demo = await listen(createDemoApp(ingestUrl), demoServerPort, env.DEMO_HOST)
    servers.push(demo)
    // A dev convenience: without a tenants file the demo org gets privacy, analyst and admin keys minted now (printed by main.ts).
    const demoKey = env.ATSPARK_TENANTS_FILE ? undefined : generateApiKey()
    const analystKey = env.ATSPARK_TENANTS_FILE ? undefined : generateApiKey()
    const adminKey = env.ATSPARK_TENANTS_FILE ? undefined : generateApiKey()
    const demoSecret = deriveOrgSecret(secret, DEMO_ORG).toString('base64')
    const store = await TenantStore.open(env.ATSPARK_TENANTS_FILE, () =>
      demoOrgTenants(demo.port, {
        hmacSecret: demoSecret,
        ...(demoKey ? { privacyKeyHash: demoKey.hash } : {}),
        ...(analystKey ? { analystKeyHash: analystKey.hash } : {}),
        ...(adminKey ? { adminKeyHash: adminKey.hash } : {}),
      }),
    )
    privacy = await startPrivacy({
      warehouse,
      tenants: store,
      masterSecret: secret,
      logger,
      auditLogTtlMonths: env.AUDIT_LOG_TTL_MONTHS,
      privacyRequestsTtlMonths: env.PRIVACY_REQUESTS_TTL_MONTHS,
      rollupTtlMonths: env.ROLLUP_TTL_MONTHS,
      suppressionRefreshMs: env.SUPPRESSION_REFRESH_MS,
    })
    tenants = store
    const running = privacy
    // The back office shares the pipeline's suppression set: a suppress call applies to the very next event.
    const privacyApi = startPrivacyApi({
      tenants: () => store.current(),
      store: privacy.store,
      pseudonymize: privacy.pseudonymize,
      suppressions: privacy.suppressions,
      logger,
      refusals: { ratePerSecond: env.BACKOFFICE_REFUSED_RPS, burst: env.BACKOFFICE_REFUSED_BURST, maxTracked: env.BACKOFFICE_REFUSED_MAX_TRACKED },
      trust: compileTrust(env.TRUSTED_PROXIES),
      registry: processorRegistry,
    })
    const backoffice = await listen(createBackofficeApp({
        warehouse,
        registries: [ingestRegistry, processorRegistry],
        readiness: [{ reason: 'warehouse writes failing', ok: () => writeHealth.ok() }],
        privacy: privacyApi.api,
        stats: { warehouse, tenants: privacyApi.api.tenants, logger, k: env.STATS_K_ANONYMITY },
      }), env.BACKOFFICE_PORT, env.BACKOFFICE_HOST)
    servers.push(backoffice)

    const seedAbort = new AbortController()
    const seeding = seedDemo ? seedDemoTraffic(demoTrafficSites(demo.port), seedAbort.signal) : undefined

    // Half the shutdown bound for requests to finish, the rest for the drain into the warehouse.
    const grace = Math.min(CLOSE_GRACE_MS, Math.floor(env.SHUTDOWN_TIMEOUT_MS / 2))
    let stopping: Promise<void> | undefined
    const stop = () => {
      stopping ??= (async () => {
        // Order matters: stop taking batches, let in-flight ones reach the warehouse, then close the engine.
        await closeWithin(ingest, grace)
        seedAbort.abort()
        await seeding
        await bus.close()
        await Promise.all([closeWithin(demo, grace), closeWithin(backoffice, grace)])
        await privacyApi.stop()
        await running.stop()
        // exitOnSignals logs "stopped cleanly" once, with the time it took.
        await warehouse.close()
      })()
      return stopping
    }
    return {
      urls: { ingest: ingestUrl, backoffice: `http://localhost:${backoffice.port}`, demo: `http://localhost:${demo.port}` },
      stop,
      reloadIpKeys: () => reloadIpKeys(ipKeys, logger),
      reloadTenants: async () => {
        await running.reloadTenants()
      },
      ...(demoKey ? { demoPrivacyKey: demoKey.key } : {}),
      ...(analystKey ? { demoAnalystKey: analystKey.key } : {}),
      ...(adminKey ? { demoAdminKey: adminKey.key } : {}),
      backofficeLocalUrl: localUrl(env.BACKOFFICE_HOST, backoffice.port),
      ingestLocalUrl: localUrl(env.INGEST_HOST, ingest.port),
      seedingDemoTraffic: seeding !== undefined,
    }
  } catch (err) {
    await privacy?.stop().catch(() => undefined)
    await Promise.allSettled(servers.map((s) => s.close()))
    await bus.close()
    await warehouse.close()
    throw err
  }
}

/** Per request in embedded mode, where the wait for its insert went: the bench reads it to attribute ingest latency. */
function writePhaseHistogram(registry: Registry): Histogram<'phase'> {
  return new Histogram({
    name: 'atspark_embedded_write_wait_seconds',
    help: "Per request's rows in embedded mode, by phase: linger (gathering a batch while no insert ran), blocked (behind the insert under way), write (the insert that carried them)",
    labelNames: ['phase'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  })
}

async function closeWithin(server: RunningServer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  // close(ms) cuts sockets still open at the bound, so the server does not outlive the shutdown.
  await Promise.race([server.close(ms), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms + 100)))])
  clearTimeout(timer)
}
