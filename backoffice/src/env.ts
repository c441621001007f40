import { Port, parseEnv } from '@atspark/runtime'
import { STATS_K_ANONYMITY_DEFAULT } from '@atspark/schemas'
import { WarehouseEnv } from '@atspark/warehouse'
import { z } from 'zod'

/** Every variable the back office reads (standalone, or inside the embedded runner); the only reader of process.env here. */
export const BackofficeEnv = WarehouseEnv.extend({
  BACKOFFICE_PORT: Port.default(8081),
  BACKOFFICE_HOST: z.string().default('127.0.0.1'),
  /** Refused privacy calls (401/403) an address earns back per second; past its burst it gets 429 until one is earned. */
  BACKOFFICE_REFUSED_RPS: z.coerce.number().positive().max(10_000).default(1),
  BACKOFFICE_REFUSED_BURST: z.coerce.number().int().min(1).max(100_000).default(60),
  /** Addresses (IPv6 by /64) whose refusal buckets are kept (LRU), and per-minute refusal tallies held before a flush. */
  BACKOFFICE_REFUSED_MAX_TRACKED: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  /** The stats API's k: values and buckets seen by fewer distinct visitors are merged into "other" or hidden. */
  STATS_K_ANONYMITY: z.coerce.number().int().min(2).max(1000).default(STATS_K_ANONYMITY_DEFAULT),
})
export type BackofficeEnv = z.infer<typeof BackofficeEnv>

export function parseBackofficeEnv(source: Record<string, string | undefined> = process.env): BackofficeEnv {
  return parseEnv(BackofficeEnv, 'back office', source)
}
