export { RecentEventIds, rememberWritten, withoutSeenEvents } from './dedup/recent-ids.js'
export { correctTimestamp, warehouseTime } from './enrich/clock.js'
export { toConsentRow } from './enrich/consent-row.js'
export { type EventRowDeps, ipOpener, type OpenIp, toEventRows } from './enrich/event-rows.js'
export { type Geo, openGeo } from './enrich/geo.js'
export { parseUserAgent } from './enrich/user-agent.js'
export {
  type LearnedVisits,
  type StoredVisits,
  VISIT_IDLE_MS,
  VISIT_LOOKUP_DAYS,
  type VisitKey,
  type VisitLookup,
  VisitStitcher,
  type VisitValues,
  visitKey,
  withVisitAttribution,
} from './enrich/visit-attribution.js'
export { warehouseStoredVisits, warehouseVisitLookup } from './enrich/visit-lookup.js'
export { WrittenVisits } from './enrich/written-visits.js'
export { ProcessorEnv, parseProcessorEnv } from './env.js'
export { PoisonMessageError, ProcessorError, WarehouseWriteError } from './errors.js'
export { FailpointMode, WarehouseFailpoint } from './failpoints.js'
export { type KafkaProcessor, startKafkaProcessor } from './kafka-processor.js'
export { createProcessorMetrics, type ProcessorMetrics } from './metrics.js'
export { createOperatorApp, failpointRoutes, type OperatorAppDeps, PING_TIMEOUT_MS } from './operator-app.js'
export { EmbeddedBus } from './pipeline/embedded-bus.js'
export { type RecordDeps, toRecords } from './pipeline/to-records.js'
export { type WarehouseWrites, warehouseWrites } from './pipeline/warehouse-writes.js'
export { type PrivacyRuntime, type PrivacyRuntimeOptions, startPrivacy } from './privacy/runtime.js'
export { SuppressionSet } from './privacy/suppression.js'
export { instrumentWrites, WriteHealth } from './write-health.js'
export { type KillAt, KillAtSetting, KillPoint } from './kafka/commit-failpoint.js'
