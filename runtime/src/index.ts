export { type BatchingOptions, BatchingWriter, type SettleInfo, type WriteInfo } from './batching-writer.js'
export { ACCEPTED_ENCODINGS, type AcceptedEncoding, contentCoding, readBody, readIncoming, setBodyDeadline } from './body-reader.js'
export type { Bus } from './bus.js'
export { answerClientErrors, answerRequestError } from './client-errors.js'
export { addressKey, clientIp, compileTrust, hopAddress, type TrustFn } from './client-ip.js'
export { type ConnectionBound, type ConnectionLimits, ConnectionRefusal, connectionBound, exemptAddresses, limitConnections, openFileLimit } from './connection-limits.js'
export { answerJson, edgeHeaders, HSTS_VALUE, siteCors } from './edge-headers.js'
export { AddressList, Burst, emptyAsUnset, type IpKeyEnv, ipKeyEnvRules, Port, parseEnv, Rate, ServiceEnv } from './env.js'
export * from './errors.js'
export { loadHmacSecret } from './hmac-secret.js'
export { type IpPrefix, normalizeIp, truncateIp } from './ip-prefix.js'
export {
  GENERATED_IP_KEYS_FILE,
  IP_KEYS_MISSING,
  IpKeyConfigError,
  IpKeys,
  type IpKeySource,
  loadServiceIpKeys,
  readIpKeysFile,
  reloadIpKeys,
  reloadIpKeysOnSighup,
} from './ip-keys.js'
export { type IpKeyring, type IpSealContext, IpSealError, type IpSealFailure, openIp, SEALED_IP_PLAINTEXT_BYTES, sealedIpKeyId, sealIp } from './ip-seal.js'
export { createKafka, ensureTopics, type KafkaEnv } from './kafka/client.js'
export { KafkaHealth, type KafkaHealthOptions } from './kafka/health.js'
export { deriveOrgSecret, generateApiKey, hashApiKey, orgSecrets, type Pseudonymize, pseudonymizer, subjectHash } from './keys.js'
export { finishReading, LINGER_MAX_BYTES, LINGER_MAX_MS } from './lingering-close.js'
export { createLogger, type Logger, REDACT_PATHS } from './logger.js'
export { mountOperatorRoutes, type OperatorRoutes, type ReadinessCheck } from './operator-routes.js'
export { nodeIncoming, requestClientIp, requestHeader, socketAddress } from './request-info.js'
export { backoffDelay, RetryAbandonedError, type RetryOptions, retry } from './retry.js'
export { listen, type ListenOptions, type RunningServer } from './server.js'
export { exitOnSignals, runWithin, type ShutdownOptions } from './shutdown.js'
export { TokenBuckets } from './token-bucket.js'
export { type ApiKeyRef, type DemoTenantOptions, demoTenants, reloadOnSighup, type SiteRef, TenantDirectory, type TenantReload, TenantStore } from './tenants.js'
