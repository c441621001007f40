import { IngestEnv, ipKeyEnvRules } from '@atspark/ingest'
import { AUDIT_LOG_TTL_MONTHS, PRIVACY_REQUESTS_TTL_MONTHS, ROLLUP_TTL_MONTHS, STATS_K_ANONYMITY_DEFAULT } from '@atspark/schemas'
import { z } from 'zod'
import { KillAtSetting } from './kafka/commit-failpoint.js'

const Port = z.coerce.number().int().min(0).max(65_535)

/** Every variable the processor (and the embedded runner) reads; the only reader of process.env here. */
export const ProcessorEnv = IngestEnv.extend({
  ATSPARK_DATA_DIR: z.string().default('./data'),
  CLICKHOUSE_URL: z.url().optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  BACKOFFICE_PORT: Port.default(8081),
  BACKOFFICE_HOST: z.string().default('127.0.0.1'),
  /** Refused privacy calls (401/403) an address earns back per second; past its burst it gets 429 until one is earned. */
  BACKOFFICE_REFUSED_RPS: z.coerce.number().positive().max(10_000).default(1),
  BACKOFFICE_REFUSED_BURST: z.coerce.number().int().min(1).max(100_000).default(60),
  /** Addresses (IPv6 by /64) whose refusal buckets are kept (LRU), and per-minute refusal tallies held before a flush. */
  BACKOFFICE_REFUSED_MAX_TRACKED: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  DEMO_PORT: Port.default(3000),
  DEMO_HOST: z.string().default('127.0.0.1'),
  /** '1': with the demo tenant (no ATSPARK_TENANTS_FILE) and no demo events yet, `npm start` generates 30 days of demo traffic. */
  DEMO_TRAFFIC: z.enum(['0', '1']).default('1'),
  /** An mmdb country database; unset means the CC0 one shipped on npm. */
  GEOIP_DB: z.string().optional(),
  /** Key for user id pseudonyms (≥ 32 chars); unset means one generated once and kept in the data dir. */
  ATSPARK_HMAC_SECRET: z.string().min(32).optional(),
  WRITE_BATCH_MAX_ROWS: z.coerce.number().int().min(1).default(5000),
  WRITE_LINGER_MS: z.coerce.number().int().min(0).default(10),
  WRITE_MAX_QUEUED_ROWS: z.coerce.number().int().min(1).default(100_000),
  KAFKA_GROUP_ID: z.string().default('atspark-processor'),
  /** Also how long a killed processor's partitions wait before another member takes them. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).default(10_000),
  KAFKA_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).default(2),
  /** Event ids remembered for duplicate dropping, and the window rebuilt from the warehouse. */
  RECENT_IDS_MAX: z.coerce.number().int().min(1_000).default(500_000),
  RECENT_IDS_WINDOW_SECONDS: z.coerce.number().int().min(60).default(3_600),
  /** Test-only: '1' lets the back office switch warehouse-write failpoints. */
  ATSPARK_FAILPOINTS: z.enum(['0', '1']).default('0'),
  /** Test-only, with ATSPARK_FAILPOINTS=1: `before-insert:<n>` or `after-insert:<n>` kill -9s the Kafka processor at that side of its nth batch's insert. */
  ATSPARK_FAILPOINT_KILL: KillAtSetting.optional(),
  /** Months audit_log and privacy_requests rows are kept; applied to the tables at start-up (and audited) when they differ. */
  AUDIT_LOG_TTL_MONTHS: z.coerce.number().int().min(1).max(120).default(AUDIT_LOG_TTL_MONTHS),
  PRIVACY_REQUESTS_TTL_MONTHS: z.coerce.number().int().min(1).max(120).default(PRIVACY_REQUESTS_TTL_MONTHS),
  /** Months rollup_dims_hourly and rollup_dims_daily keep aggregates; applied at start-up (and audited) when the tables' differ. */
  ROLLUP_TTL_MONTHS: z.coerce.number().int().min(1).max(120).default(ROLLUP_TTL_MONTHS),
  /** How often each processor re-reads atspark.suppressions; its own privacy API applies changes at once. */
  SUPPRESSION_REFRESH_MS: z.coerce.number().int().min(100).default(5_000),
  /** The stats API's k: values and buckets seen by fewer distinct visitors are merged into "other" or hidden. */
  STATS_K_ANONYMITY: z.coerce.number().int().min(2).max(1000).default(STATS_K_ANONYMITY_DEFAULT),
})
export type ProcessorEnv = z.infer<typeof ProcessorEnv>

export function parseProcessorEnv(source: Record<string, string | undefined> = process.env): ProcessorEnv {
  const parsed = ProcessorEnv.superRefine(ipKeyEnvRules).safeParse(source)
  if (!parsed.success) throw new Error(`invalid processor environment: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}
