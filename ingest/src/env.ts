import { LIMITS } from '@atspark/schemas'
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
})
export type IngestEnv = z.infer<typeof IngestEnv>

export function parseIngestEnv(source: Record<string, string | undefined> = process.env): IngestEnv {
  const parsed = IngestEnv.safeParse(source)
  if (!parsed.success) throw new Error(`invalid ingest environment: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}
