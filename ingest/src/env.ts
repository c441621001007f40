import { LIMITS } from '@atspark/schemas'
import { AddressList, Burst, emptyAsUnset, Port, parseEnv, Rate, ServiceEnv } from '@atspark/runtime'
import { z } from 'zod'

/** Every variable ingest reads; the only place in ingest that touches process.env. */
export const IngestEnv = ServiceEnv.extend({
  INGEST_PORT: Port.default(8080),
  INGEST_HOST: z.string().default('127.0.0.1'),
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
  /** Upper bound on one produce before ingest answers 503. */
  KAFKA_PRODUCE_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  KAFKA_LINGER_MS: z.coerce.number().int().min(0).default(5),
  KAFKA_BATCH_MAX_MESSAGES: z.coerce.number().int().min(1).default(1_000),
  KAFKA_MAX_QUEUED_MESSAGES: z.coerce.number().int().min(1).default(20_000),
})
export type IngestEnv = z.infer<typeof IngestEnv>

export function parseIngestEnv(source: Record<string, string | undefined> = process.env): IngestEnv {
  return parseEnv(IngestEnv, 'ingest', source)
}
