import { LIMITS, TOPICS } from '@atspark/schemas'
import { z } from 'zod'

const Port = z.coerce.number().int().min(0).max(65_535)
const CsvList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )

/** Every variable ingest reads; the only place in ingest that touches process.env. */
export const IngestEnv = z.object({
  INGEST_PORT: Port.default(8080),
  INGEST_HOST: z.string().default('127.0.0.1'),
  /** CIDRs (or loopback/linklocal/uniquelocal) whose X-Forwarded-For is believed. Empty: none. */
  TRUSTED_PROXIES: CsvList,
  INGEST_BODY_LIMIT: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(LIMITS.bodyBytes),
  /** JSON tenants file; unset in embedded mode means the seeded demo tenant. */
  ATSPARK_TENANTS_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Kafka bootstrap brokers (host:port, comma-separated); unset means the embedded in-process bus. */
  KAFKA_BROKERS: CsvList,
  KAFKA_CLIENT_ID: z.string().default('atspark'),
  ATSPARK_TOPIC_RAW: z.string().default(TOPICS.raw),
  ATSPARK_TOPIC_DLQ: z.string().default(TOPICS.dlq),
  KAFKA_RAW_PARTITIONS: z.coerce.number().int().min(1).default(6),
  KAFKA_RAW_RETENTION_MS: z.coerce.number().int().min(60_000).default(24 * 3_600_000),
  KAFKA_DLQ_RETENTION_MS: z.coerce.number().int().min(60_000).default(14 * 24 * 3_600_000),
  /** -1 takes the broker's default.replication.factor. */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(-1).default(-1),
  /** Upper bound on one produce before ingest answers 503. */
  KAFKA_PRODUCE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  KAFKA_LINGER_MS: z.coerce.number().int().min(0).default(5),
  KAFKA_BATCH_MAX_MESSAGES: z.coerce.number().int().min(1).default(1_000),
  KAFKA_MAX_QUEUED_MESSAGES: z.coerce.number().int().min(1).default(20_000),
})
export type IngestEnv = z.infer<typeof IngestEnv>

export function parseIngestEnv(source: Record<string, string | undefined> = process.env): IngestEnv {
  const parsed = IngestEnv.safeParse(source)
  if (!parsed.success) throw new Error(`invalid ingest environment: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}
