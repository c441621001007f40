import { type Logger, orgSecrets, type Pseudonymize, pseudonymizer, type TenantReload, type TenantStore } from '@atspark/runtime'
import { AUDIT_LOG_TTL_MONTHS, PRIVACY_REQUESTS_TTL_MONTHS, ROLLUP_TTL_MONTHS } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import type { RecordDeps } from '../pipeline/to-records.js'
import { AuditAction, applyConfiguredTtls, enforceSiteRetention, type PrivacyStore, ROLLUP_TABLES, systemAuditRow, warehousePrivacyStore } from '@atspark/warehouse'
import { SuppressionSet } from './suppression.js'

export interface PrivacyRuntimeOptions {
  warehouse: ClickHouseClient
  tenants: TenantStore
  /** The process pseudonym key (ATSPARK_HMAC_SECRET or the data dir's); orgs without their own hmac_secret derive theirs from it. */
  masterSecret: Buffer
  logger: Logger
  auditLogTtlMonths?: number
  privacyRequestsTtlMonths?: number
  /** Months both rollups keep aggregates (ROLLUP_TTL_MONTHS). */
  rollupTtlMonths?: number
  /** How often every processor re-reads atspark.suppressions (changes made through this process apply at once). */
  suppressionRefreshMs?: number
  /** How often sites with retention_months < 13 have their older events deleted. */
  siteRetentionIntervalMs?: number
}

export interface PrivacyRuntime {
  pseudonymize: Pseudonymize
  suppressions: SuppressionSet
  store: PrivacyStore
  /** What toRecords needs on top of enrichment: the suppression filter and per-site geo precision. */
  recordDeps: Pick<RecordDeps, 'suppressions' | 'geoPrecision'>
  /** Re-reads the tenants file (SIGHUP): keeps the old config on error, and audits and logs either way; then applies site retention. */
  reloadTenants(): Promise<TenantReload>
  /** Stops the suppression refresh and the site retention timer. */
  stop(): Promise<void>
}

const DAY_MS = 24 * 3_600_000

/**
 * Wires tenants, pseudonyms, suppressions, table TTLs, site retention and the audit log together for one
 * processor (Kafka or embedded); the back office's privacy API builds on it in the same process. Resolves once suppressions are loaded, so the first event is already filtered.
 */
export async function startPrivacy(options: PrivacyRuntimeOptions): Promise<PrivacyRuntime> {
  const { warehouse, tenants, logger } = options
  const store = warehousePrivacyStore(warehouse)
  const current = () => tenants.current()
  const pseudonymize = pseudonymizer(orgSecrets(current, options.masterSecret))
  const suppressions = new SuppressionSet(() => store.activeSuppressions())

  const withoutSecret = current()
    .orgs.filter((o) => !o.hmac_secret)
    .map((o) => o.id)
  if (withoutSecret.length) logger.warn({ orgs: withoutSecret }, 'orgs without hmac_secret: their pseudonym key is derived from this process key (set ATSPARK_HMAC_SECRET alike on every processor)')

  const ttls = await applyConfiguredTtls(warehouse, {
    audit_log: options.auditLogTtlMonths ?? AUDIT_LOG_TTL_MONTHS,
    privacy_requests: options.privacyRequestsTtlMonths ?? PRIVACY_REQUESTS_TTL_MONTHS,
    ...Object.fromEntries(Object.keys(ROLLUP_TABLES).map((table) => [table, options.rollupTtlMonths ?? ROLLUP_TTL_MONTHS])),
  })
  if (ttls.length) {
    await store.audit(ttls.map((change) => systemAuditRow(AuditAction.retentionTtl, 'ok', { ...change })))
    logger.info({ changes: ttls }, 'table TTLs set from the configuration')
  }

  await suppressions.refresh()
  suppressions.start(options.suppressionRefreshMs ?? 5_000, (err) => logger.warn({ err }, 'suppressions refresh failed; keeping the last known set'))

  const enforceRetention = async () => {
    const sites = current().orgs.flatMap((o) => o.sites.map((s) => ({ org_id: o.id, site_id: s.id, retention_months: s.retention_months })))
    const done = await enforceSiteRetention(warehouse, sites)
    if (done.length) {
      await store.audit(done.map((r) => systemAuditRow(AuditAction.retentionSite, 'ok', { ...r })))
      logger.info({ sites: done }, 'site retention applied')
    }
  }
  const retentionFailed = (err: unknown) => logger.warn({ err }, 'site retention failed; retrying at the next interval')
  await enforceRetention().catch(retentionFailed)
  const retentionTimer = setInterval(() => void enforceRetention().catch(retentionFailed), options.siteRetentionIntervalMs ?? DAY_MS)
  retentionTimer.unref()

  const reloadTenants = async (): Promise<TenantReload> => {
    const result = await tenants.reload()
    // The error message names the file and the invalid field, never a secret (TenantDirectory.load).
    const detail = result.ok ? { file: tenants.file ?? '', ...result.directory.summary() } : { file: tenants.file ?? '', error: result.error.message }
    const outcome = result.ok ? 'ok' : tenants.file ? 'failed' : 'skipped'
    if (outcome === 'ok') logger.info(detail, 'tenants reloaded')
    else if (outcome === 'skipped') logger.warn(detail, 'tenants reload skipped: the built-in config stays')
    else logger.error(detail, 'tenants reload failed; keeping the current config')
    await store.audit([systemAuditRow(AuditAction.tenantsReload, outcome, detail)]).catch((err: unknown) => logger.error({ err }, 'could not audit the tenants reload'))
    // A site's retention may have just been shortened: apply it now rather than at the next daily run.
    if (result.ok) await enforceRetention().catch(retentionFailed)
    return result
  }

  return {
    pseudonymize,
    suppressions,
    store,
    recordDeps: { suppressions, geoPrecision: (orgId, siteId) => current().siteOf(orgId, siteId)?.geo_precision },
    reloadTenants,
    async stop() {
      suppressions.stop()
      clearInterval(retentionTimer)
    },
  }
}
