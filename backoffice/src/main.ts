import {
  compileTrust,
  createLogger,
  deriveOrgSecret,
  demoTenants,
  exitOnSignals,
  listen,
  loadHmacSecret,
  orgSecrets,
  pseudonymizer,
  TenantStore,
} from '@atspark/runtime'
import { AuditAction, openServiceWarehouse, systemAuditRow, warehousePrivacyStore, writesDataDir } from '@atspark/warehouse'
import { collectDefaultMetrics, Registry } from 'prom-client'
import { createBackofficeApp } from './app.js'
import { parseBackofficeEnv } from './env.js'
import { startPrivacyApi } from './privacy/runtime.js'

// `node backoffice/dist/main.js`: the stats and privacy APIs and the dashboard as their own service, so analysts'
// queries never share a process with the Kafka consumer. It needs a ClickHouse server (CLICKHOUSE_URL): chDB lets
// one process open a data directory, and that is the processor's.
const env = parseBackofficeEnv()
const logger = createLogger('atspark-backoffice', env.LOG_LEVEL)
if (!env.CLICKHOUSE_URL) logger.warn('CLICKHOUSE_URL is not set: the back office opens chDB in ATSPARK_DATA_DIR, which no processor may hold at the same time')
const warehouse = await openServiceWarehouse(env, logger, writesDataDir(env))
// The same pseudonym keys as the processors (ATSPARK_HMAC_SECRET alike everywhere), so a user id finds its user_pid.
const secret = await loadHmacSecret(env.ATSPARK_HMAC_SECRET, env.ATSPARK_DATA_DIR)
const tenants = await TenantStore.open(env.ATSPARK_TENANTS_FILE, () => demoTenants(3000, { hmacSecret: deriveOrgSecret(secret, 'demo').toString('base64') }))
if (!env.ATSPARK_TENANTS_FILE) logger.warn('ATSPARK_TENANTS_FILE is not set: the demo tenant only, and no API key')
const current = () => tenants.current()
const store = warehousePrivacyStore(warehouse)
const registry = new Registry()
collectDefaultMetrics({ register: registry, prefix: 'atspark_backoffice_' })
const privacy = startPrivacyApi({
  tenants: current,
  store,
  pseudonymize: pseudonymizer(orgSecrets(current, secret)),
  // Suppressions reach the processors through atspark.suppressions, which each re-reads every SUPPRESSION_REFRESH_MS.
  suppressions: { set: () => undefined },
  logger,
  refusals: { ratePerSecond: env.BACKOFFICE_REFUSED_RPS, burst: env.BACKOFFICE_REFUSED_BURST, maxTracked: env.BACKOFFICE_REFUSED_MAX_TRACKED },
  trust: compileTrust(env.TRUSTED_PROXIES),
  registry,
})
const server = await listen(
  createBackofficeApp({ warehouse, registries: [registry], privacy: privacy.api, stats: { warehouse, tenants: current, logger, k: env.STATS_K_ANONYMITY } }),
  env.BACKOFFICE_PORT,
  env.BACKOFFICE_HOST,
)
logger.info({ port: server.port }, 'back office listening')

// Re-reads ATSPARK_TENANTS_FILE (new API keys): a bad file keeps the current tenants; logged and audited either way.
process.on('SIGHUP', () => {
  void (async () => {
    const result = await tenants.reload()
    const detail = result.ok ? { file: tenants.file ?? '', ...result.directory.summary() } : { file: tenants.file ?? '', error: result.error.message }
    const outcome = result.ok ? 'ok' : tenants.file ? 'failed' : 'skipped'
    if (outcome === 'failed') logger.error(detail, 'tenants reload failed; keeping the current config')
    else logger.info(detail, outcome === 'ok' ? 'tenants reloaded' : 'tenants reload skipped: the built-in config stays')
    await store.audit([systemAuditRow(AuditAction.tenantsReload, outcome, detail)]).catch((err: unknown) => logger.error({ err }, 'could not audit the tenants reload'))
  })()
})

exitOnSignals(
  async () => {
    await server.close(1_000)
    await privacy.stop()
    await warehouse.close()
  },
  { timeoutMs: env.SHUTDOWN_TIMEOUT_MS, logger },
)
