import { BackofficeEnv } from '@atspark/backoffice'
import { IngestEnv } from '@atspark/ingest'
import { ProcessorEnv } from '@atspark/processor'
import { Port, parseEnv } from '@atspark/runtime'
import { z } from 'zod'

/** `npm start` reads every service's variables (ingest, processor, back office) plus the demo's; the only reader of process.env here. */
export const ServerEnv = IngestEnv.extend(ProcessorEnv.shape)
  .extend(BackofficeEnv.shape)
  .extend({
    DEMO_PORT: Port.default(3000),
    DEMO_HOST: z.string().default('127.0.0.1'),
    /** '1': with the demo tenant (no ATSPARK_TENANTS_FILE) and no demo events yet, `npm start` generates 30 days of demo traffic. */
    DEMO_TRAFFIC: z.enum(['0', '1']).default('1'),
  })
export type ServerEnv = z.infer<typeof ServerEnv>

export function parseServerEnv(source: Record<string, string | undefined> = process.env): ServerEnv {
  return parseEnv(ServerEnv, 'processor', source)
}
