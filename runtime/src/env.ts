import { IpKeyId, IpKeyMaterial, LIMITS, TOPICS } from '@atspark/schemas'
import proxyAddr from 'proxy-addr'
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

/** An address list as proxy-addr reads it (CIDRs, addresses, loopback/linklocal/uniquelocal); a bad entry is named at start-up. */
const AddressList = (fallback: string) =>
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
const Rate = z.coerce.number().min(0).max(1_000_000)
const Burst = z.coerce.number().int().min(1).max(10_000_000)

/** Unset and empty mean the same: not configured. */
const emptyAsUnset = (v: unknown) => (v === '' ? undefined : v)

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

/** Every variable ingest reads; the only place in ingest that touches process.env. */
export const IngestEnv = z.object({
  INGEST_PORT: Port.default(8080),
  INGEST_HOST: z.string().default('127.0.0.1'),
  /** CIDRs (or loopback/linklocal/uniquelocal) whose X-Forwarded-For is believed. Empty: none. */
  TRUSTED_PROXIES: AddressList(''),
  INGEST_BODY_LIMIT: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(LIMITS.bodyBytes),
  /** Token bucket per write key, per ingest process: sustained requests/s (0 = off) and burst. */
  RATE_LIMIT_KEY_RPS: Rate.default(1_000),
  RATE_LIMIT_KEY_BURST: Burst.default(2_000),
  /** The share of a write key's bucket (rate and burst) one client address may spend; 1 = no per-address share. */
  RATE_LIMIT_KEY_ADDRESS_SHARE: z.coerce.number().gt(0).max(1).default(0.05),
  /** Token bucket per client address (IPv4 address, IPv6 /64), after the trusted-proxy rules: requests/s (0 = off) and burst. */
  RATE_LIMIT_ADDRESS_RPS: Rate.default(100),
  RATE_LIMIT_ADDRESS_BURST: Burst.default(200),
  /** Client addresses the address limit skips; loopback by default, so an untrusted local proxy does not throttle everyone as one. */
  RATE_LIMIT_ADDRESS_EXEMPT: AddressList('loopback'),
  /** Buckets remembered per limit (least recently used forgotten first): bounds the limiter's memory. */
  RATE_LIMIT_MAX_TRACKED: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  /** POST requests handled at once; more are answered 503 + Retry-After at once instead of queueing. */
  INGEST_MAX_INFLIGHT: z.coerce.number().int().min(1).max(1_000_000).default(1_024),
  /** A request (headers and body) must arrive within this long, or its socket is closed: slow clients cannot pin memory. */
  INGEST_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** POST requests one client address (IPv6 by /64) may have in flight; more get 429 too_many_in_flight. RATE_LIMIT_ADDRESS_EXEMPT addresses skip it. */
  INGEST_MAX_INFLIGHT_PER_ADDRESS: z.coerce.number().int().min(1).max(1_000_000).default(32),
  /** A request body must have arrived within this long after its headers, or 408 body_timeout: a slow upload holds its slot no longer. */
  INGEST_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Open connections on the ingest listener; past it new ones are closed on accept. Unset: the open-file limit minus INGEST_FD_RESERVE. */
  INGEST_MAX_CONNECTIONS: z.preprocess(emptyAsUnset, z.coerce.number().int().min(1).max(10_000_000).optional()),
  /** File descriptors kept for everything but ingest's connections (warehouse, Kafka, files) when INGEST_MAX_CONNECTIONS is derived; at most half the limit. */
  INGEST_FD_RESERVE: z.coerce.number().int().min(0).max(10_000_000).default(1_024),
  /** Open connections one peer address (IPv6 by /64) may hold; TRUSTED_PROXIES and RATE_LIMIT_ADDRESS_EXEMPT peers skip it. */
  INGEST_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000_000).default(256),
  /** The share of the bus queue one site may hold, so a noisy site cannot fill it for everyone (1 = no cap). */
  BUS_SITE_QUEUE_SHARE: z.coerce.number().gt(0).max(1).default(0.5),
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
  /** Upper bound on one produce before ingest answers 503. */
  KAFKA_PRODUCE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  KAFKA_LINGER_MS: z.coerce.number().int().min(0).default(5),
  KAFKA_BATCH_MAX_MESSAGES: z.coerce.number().int().min(1).default(1_000),
  KAFKA_MAX_QUEUED_MESSAGES: z.coerce.number().int().min(1).default(20_000),
  /** How often the broker is probed for /readyz (a metadata request), so readiness drops without traffic too. */
  KAFKA_HEALTH_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /** Keys sealing client IPs (AES-256-GCM), `kid:base64key,…`; the processor needs every kid still on the raw topic. */
  ATSPARK_IP_KEYS: z.preprocess(emptyAsUnset, IpKeyList.optional()),
  /** The kid ingest seals with; may be omitted when ATSPARK_IP_KEYS holds one key. */
  ATSPARK_IP_KEY_ACTIVE: z.preprocess(emptyAsUnset, IpKeyId.optional()),
  /** Instead of the two above: a JSON file `{ "active": kid, "keys": { kid: base64 } }`, re-read on SIGHUP. */
  ATSPARK_IP_KEYS_FILE: z.preprocess(emptyAsUnset, z.string().optional()),
})
export type IngestEnv = z.infer<typeof IngestEnv>

export type IpKeyEnv = Pick<IngestEnv, 'ATSPARK_IP_KEYS' | 'ATSPARK_IP_KEY_ACTIVE' | 'ATSPARK_IP_KEYS_FILE'>

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

export function parseIngestEnv(source: Record<string, string | undefined> = process.env): IngestEnv {
  const parsed = IngestEnv.superRefine(ipKeyEnvRules).safeParse(source)
  if (!parsed.success) throw new Error(`invalid ingest environment: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}
