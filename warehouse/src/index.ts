export * from './analyst-access.js'
export { createWarehouseClient, pingWithin, type WarehouseTarget, warehouseKind } from './client.js'
export { type DataDirCheck, privateDataDir } from './data-dir.js'
export { parseWarehouseEnv, WarehouseEnv, warehouseTarget } from './env.js'
export { logDataDirWarning, openServiceWarehouse, securePrivateDataDir, writesDataDir } from './open.js'
export { appliedVersions, MIGRATIONS, type Migration, type MigrationResult, migrate } from './migrations.js'
export { AuditAction, systemAuditRow } from './privacy/audit.js'
export { type ActiveSuppression, type PrivacyRequestOut, type PrivacyStore, type SubjectMatch, warehousePrivacyStore } from './privacy/store.js'
export { type InsertObserver, jsonEachRowBody, recordWriter, type WarehouseRecord, type WriteRecords } from './record-writer.js'
export {
  applyConfiguredTtls,
  enforceSiteRetention,
  retentionReport,
  type SiteRetention,
  type SiteRetentionResult,
  type TableRetention,
  type TtlChange,
  ttlClause,
  ttlColumn,
  ttlMonths,
} from './retention.js'
export {
  BackfillArgs,
  type BackfillResult,
  backfillRollups,
  nextDay,
  parseBackfillArgs,
  ROLLUP_DIMENSIONS,
  ROLLUP_TABLES,
  ROLLUP_TOTALS,
  type RollupTable,
  rollupSelect,
  rollupViewSelect,
  type SiteRebuild,
} from './rollups.js'
export { type SharedLink, type SharedLinkStore, ShareAuditAction, warehouseSharedLinkStore } from './shares/store.js'
