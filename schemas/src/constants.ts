/** Kafka topics; the raw topic is the only one the public edge may write. */
export const TOPICS = {
  raw: 'atspark.events.raw',
  dlq: 'atspark.events.dlq',
} as const
export type Topic = (typeof TOPICS)[keyof typeof TOPICS]

/** The privacy policy's promise: raw events are forgotten after 13 months. */
export const EVENTS_TTL_MONTHS = 13

/** Consent choices expire at most this long after they were made (policy: ≤ 13 months). */
export const CONSENT_MAX_AGE_MONTHS = 13

/** The warehouse database every table lives in. */
export const WAREHOUSE_DATABASE = 'atspark'

/** Path the SDK posts batches to, relative to the ingest base URL. */
export const BATCH_PATH = '/v1/batch'

/** Bounds on what one batch may carry; the SDK flushes before reaching them. */
export const LIMITS = {
  eventsPerBatch: 100,
  propsKeys: 32,
  propKeyLength: 64,
  propValueLength: 512,
  nameLength: 128,
  urlLength: 2048,
  userAgentLength: 512,
  idLength: 64,
  userIdLength: 256,
  /** Default body limit for POST /v1/batch and /v1/consent, bytes, on the wire and again after decompression. */
  bodyBytes: 64 * 1024,
  /** Deepest JSON nesting a body may have; a batch needs 4 (batch, e, event, p), so anything deeper is refused unparsed. */
  jsonDepth: 8,
  /** Oldest event accepted, before its batch's sent_at: the SDK replays undelivered events on a later page load. */
  eventMaxAgeMs: 30 * 86_400_000,
  /** How far an event may lie after its batch's sent_at (a clock stepped in between); the processor clamps it to receipt. */
  eventMaxLeadMs: 86_400_000,
} as const

/** Path the SDK posts consent receipts to: essential, so never gated by the analytics choice or DNT/GPC. */
export const CONSENT_PATH = '/v1/consent'

/** Consent receipts must outlive the events they justify: a choice (≤ 13 months) plus the events' 13 months. */
export const CONSENT_LOG_TTL_MONTHS = 26

/** Default life of `audit_log` rows (processor env AUDIT_LOG_TTL_MONTHS): the events' 13 months plus a year to answer for them. */
export const AUDIT_LOG_TTL_MONTHS = 25

/** Default life of `privacy_requests` rows (processor env PRIVACY_REQUESTS_TTL_MONTHS); same reasoning as the audit log. */
export const PRIVACY_REQUESTS_TTL_MONTHS = 25

/** A per-org pseudonym key must carry at least this much entropy, bytes. */
export const HMAC_SECRET_MIN_BYTES = 32

/** Back-office API keys are `sk_<random>`; the tenants file holds only their SHA-256. */
export const API_KEY_PREFIX = 'sk_'

/** Default life of the rollups (processor env ROLLUP_TTL_MONTHS): aggregates without identifiers outlive the events' 13 months. */
export const ROLLUP_TTL_MONTHS = 25
