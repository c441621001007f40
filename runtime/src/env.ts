import { IpKeyId, IpKeyMaterial, TOPICS } from '@atspark/schemas'
import proxyAddr from 'proxy-addr'
import { z } from 'zod'

export const Port = z.coerce.number().int().min(0).max(65_535)
const CsvList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )

/** An address list as proxy-addr reads it (CIDRs, addresses, loopback/linklocal/uniquelocal); a bad entry is named at start-up. */
export const AddressList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const list = s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
      for (const entry of list) {
        try {
          proxyAddr.compile(entry)
        } catch {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an address, CIDR, or one of loopback, linklocal, uniquelocal` })
        }
      }
      return list
    })

/** A rate in requests per second; 0 turns that limit off. */
export const Rate = z.coerce.number().min(0).max(1_000_000)
export const Burst = z.coerce.number().int().min(1).max(10_000_000)

/** Unset and empty mean the same: not configured. */
export const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v)

/** `kid:base64key[,kid2:base64key…]` → key id → 32-byte key. Issues name the key id, never the key. */
const IpKeyList = z.string().transform((s, ctx) => {
  const keys = new Map<string, Buffer>()
  const entries = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
  if (entries.length === 0) ctx.addIssue({ code: 'custom', message: 'expected <kid>:<base64 key>[,<kid>:<base64 key>…]' })
  entries.forEach((entry, i) => {
    const colon = entry.indexOf(':')
    const kid = colon === -1 ? '' : entry.slice(0, colon)
    if (!IpKeyId.safeParse(kid).success) {
      ctx.addIssue({ code: 'custom', message: `entry ${i + 1}: expected <kid>:<base64 key>, kid 1 to 32 of A-Z a-z 0-9 _ -` })
      return
    }
    const material = entry.slice(colon + 1)
    const key = Buffer.from(material, 'base64')
    if (!IpKeyMaterial.safeParse(material).success || key.length !== 32) {
      ctx.addIssue({ code: 'custom', message: `key "${kid}" must be 32 bytes in base64 (e.g. openssl rand -base64 32)` })
      return
    }
    if (keys.has(kid)) ctx.addIssue({ code: 'custom', message: `key id "${kid}" appears twice` })
    keys.set(kid, key)
  })
  return keys
})

/** The variables every service reads (shutdown, logs, tenants, trusted proxies, Kafka, IP keys); each service's env.ts extends it and is its only reader of process.env. */
export const ServiceEnv = z.object({
  /** CIDRs (or loopback/linklocal/uniquelocal) whose X-Forwarded-For is believed. Empty: none. */
  TRUSTED_PROXIES: AddressList(''),
  /** SIGTERM/SIGINT: stop accepting, drain, and exit within this bound (exit code 1 if the drain did not finish). */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
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
  /** How often the broker is probed for /readyz (a metadata request), so readiness drops without traffic too. */
  KAFKA_HEALTH_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** Keys sealing client IPs (AES-256-GCM), `kid:base64key,…`; the processor needs every kid still on the raw topic. */
  ATSPARK_IP_KEYS: z.preprocess(emptyAsUnset, IpKeyList.optional()),
  /** The kid ingest seals with; may be omitted when ATSPARK_IP_KEYS holds one key. */
  ATSPARK_IP_KEY_ACTIVE: z.preprocess(emptyAsUnset, IpKeyId.optional()),
  /** Instead of the two above: a JSON file `{ "active": kid, "keys": { kid: base64 } }`, re-read on SIGHUP. */
  ATSPARK_IP_KEYS_FILE: z.preprocess(emptyAsUnset, z.string().optional()),
})
export type ServiceEnv = z.infer<typeof ServiceEnv>
export type IpKeyEnv = Pick<ServiceEnv, 'ATSPARK_IP_KEYS' | 'ATSPARK_IP_KEY_ACTIVE' | 'ATSPARK_IP_KEYS_FILE'>

/** Cross-variable rules for the IP keys; the processor applies them to its env too. */
export function ipKeyEnvRules(env: IpKeyEnv, ctx: z.RefinementCtx): void {
  const keys = env.ATSPARK_IP_KEYS
  if (keys && env.ATSPARK_IP_KEYS_FILE) {
    ctx.addIssue({ code: 'custom', path: ['ATSPARK_IP_KEYS_FILE'], message: 'set ATSPARK_IP_KEYS or ATSPARK_IP_KEYS_FILE, not both' })
  }
  if (env.ATSPARK_IP_KEY_ACTIVE && !keys) {
    ctx.addIssue({ code: 'custom', path: ['ATSPARK_IP_KEY_ACTIVE'], message: 'needs ATSPARK_IP_KEYS (a keys file names its own active key)' })
  }
  if (!keys || keys.size === 0) return
  if (env.ATSPARK_IP_KEY_ACTIVE === undefined && keys.size > 1) {
    ctx.addIssue({ code: 'custom', path: ['ATSPARK_IP_KEY_ACTIVE'], message: 'required when ATSPARK_IP_KEYS holds several keys: the kid ingest seals with' })
  }
  if (env.ATSPARK_IP_KEY_ACTIVE !== undefined && !keys.has(env.ATSPARK_IP_KEY_ACTIVE)) {
    ctx.addIssue({ code: 'custom', path: ['ATSPARK_IP_KEY_ACTIVE'], message: `"${env.ATSPARK_IP_KEY_ACTIVE}" is not a kid of ATSPARK_IP_KEYS` })
  }
}

/** Parses `source` with `schema` plus the IP key rules; a bad value throws naming the service and the variable. */
export function parseEnv<T extends z.ZodType<IpKeyEnv>>(schema: T, service: string, source: Record<string, string | undefined>): z.infer<T> {
  const parsed = schema.superRefine(ipKeyEnvRules).safeParse(source)
  if (!parsed.success) throw new Error(`invalid ${service} environment: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}
