import { parseEnv, ServiceEnv } from '@atspark/runtime'
import { AUDIT_LOG_TTL_MONTHS, PRIVACY_REQUESTS_TTL_MONTHS, ROLLUP_TTL_MONTHS } from '@atspark/schemas'
import { z } from 'zod'

/** The warehouse's variables: where it is and how long its tables keep rows; every service that opens it extends these. */
export const WarehouseEnv = ServiceEnv.extend({
  ATSPARK_DATA_DIR: z.string().default('./data'),
  CLICKHOUSE_URL: z.url().optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  /** Key for user id pseudonyms (≥ 32 chars); unset means one generated once and kept in the data dir. */
  ATSPARK_HMAC_SECRET: z.string().min(32).optional(),
  /** Months audit_log and privacy_requests rows are kept; applied to the tables at start-up (and audited) when they differ. */
  AUDIT_LOG_TTL_MONTHS: z.coerce.number().int().min(1).max(120).default(AUDIT_LOG_TTL_MONTHS),
  PRIVACY_REQUESTS_TTL_MONTHS: z.coerce.number().int().min(1).max(120).default(PRIVACY_REQUESTS_TTL_MONTHS),
  /** Months rollup_dims_hourly and rollup_dims_daily keep aggregates; applied at start-up (and audited) when the tables' differ. */
  ROLLUP_TTL_MONTHS: z.coerce.number().int().min(1).max(120).default(ROLLUP_TTL_MONTHS),
})
export type WarehouseEnv = z.infer<typeof WarehouseEnv>

/** The warehouse CLIs' reader of process.env (retention, backfill, analyst-sql). */
export function parseWarehouseEnv(source: Record<string, string | undefined> = process.env): WarehouseEnv {
  return parseEnv(WarehouseEnv, 'warehouse', source)
}

/** Where the warehouse is, from its variables. */
export function warehouseTarget(env: WarehouseEnv) {
  return { url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, dataDir: env.ATSPARK_DATA_DIR }
}
