import { Port, parseEnv } from '@atspark/runtime'
import { WarehouseEnv } from '@atspark/warehouse'
import { z } from 'zod'
import { KillAtSetting } from './kafka/commit-failpoint.js'

/** Every variable the processor reads (the embedded runner adds ingest's and the back office's); the only reader of process.env here. */
export const ProcessorEnv = WarehouseEnv.extend({
  /** The standalone processor's operator endpoints (/healthz, /readyz, /metrics); not used by the embedded runner. */
  PROCESSOR_PORT: Port.default(8082),
  PROCESSOR_HOST: z.string().default('127.0.0.1'),
  /** An mmdb country database; unset means the CC0 one shipped on npm. */
  GEOIP_DB: z.string().optional(),
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
  /** Visits remembered for stamping visit values (about 200 bytes each); one idle for an hour, or past the bound, is looked up in the warehouse again. */
  PROCESSOR_VISIT_CACHE_MAX: z.coerce.number().int().min(1_000).max(10_000_000).default(200_000),
  /** Test-only: '1' lets the processor's operator port switch warehouse-write failpoints. */
  ATSPARK_FAILPOINTS: z.enum(['0', '1']).default('0'),
  /** Test-only, with ATSPARK_FAILPOINTS=1: `before-insert:<n>` or `after-insert:<n>` kill -9s the Kafka processor at that side of its nth batch's insert. */
  ATSPARK_FAILPOINT_KILL: KillAtSetting.optional(),
  /** How often each processor re-reads atspark.suppressions; a back office in the same process applies changes at once. */
  SUPPRESSION_REFRESH_MS: z.coerce.number().int().min(100).default(5_000),
})
export type ProcessorEnv = z.infer<typeof ProcessorEnv>

export function parseProcessorEnv(source: Record<string, string | undefined> = process.env): ProcessorEnv {
  return parseEnv(ProcessorEnv, 'processor', source)
}
