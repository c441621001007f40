export { type BatchAccepted, createIngestApp, type IngestDeps } from './app.js'
export { type BatchingOptions, BatchingWriter } from './batching-writer.js'
export type { Bus } from './bus.js'
export { clientIp, compileTrust, type TrustFn } from './client-ip.js'
export { DropReason, enforceConsent } from './consent-gate.js'
export { IngestEnv, type IpKeyEnv, ipKeyEnvRules, parseIngestEnv } from './env.js'
export {
  GENERATED_IP_KEYS_FILE,
  IP_KEYS_MISSING,
  IpKeyConfigError,
  IpKeys,
  type IpKeySource,
  readIpKeysFile,
  reloadIpKeys,
  loadServiceIpKeys,
  reloadIpKeysOnSighup,
} from './ip-keys.js'
export { type IpKeyring, type IpSealContext, IpSealError, type IpSealFailure, openIp, SEALED_IP_PLAINTEXT_BYTES, sealedIpKeyId, sealIp } from './ip-seal.js'
export * from './errors.js'
export { createLogger, type Logger, REDACT_PATHS } from './logger.js'
export { createIngestMetrics, EventOutcome, type IngestMetrics } from './metrics.js'
export { addressKey, RateLimitName, type RateLimitOptions, RateLimits } from './rate-limit.js'
export { edgeDepsFromEnv, edgeListenOptions } from './edge-deps.js'
export { edgeHeaders, HSTS_VALUE } from './edge-headers.js'
export { rateLimitsFromEnv } from './rate-limit-env.js'
export { listen, type ListenOptions, type RunningServer } from './server.js'
export { exitOnSignals, runWithin, type ShutdownOptions } from './shutdown.js'
export { TokenBuckets } from './token-bucket.js'
export { type ApiKeyRef, type DemoTenantOptions, demoTenants, reloadOnSighup, type SiteRef, TenantDirectory, type TenantReload, TenantStore } from './tenants.js'
export { createKafka, ensureTopics, type KafkaEnv } from './kafka/client.js'
export { KafkaBus, type KafkaBusOptions } from './kafka/kafka-bus.js'
export { KafkaHealth, type KafkaHealthOptions } from './kafka/health.js'
