import type { IngestDeps } from './app.js'
import { compileTrust, type ConnectionBound, connectionBound, exemptAddresses, openFileLimit, type Logger, type ListenOptions } from '@atspark/runtime'
import type { IngestEnv } from './env.js'
import type { IngestMetrics } from './metrics.js'
import { rateLimitsFromEnv } from './rate-limit-env.js'

type EdgeEnv = Pick<IngestEnv, 'TRUSTED_PROXIES' | 'INGEST_BODY_LIMIT' | 'INGEST_MAX_INFLIGHT' | 'INGEST_MAX_INFLIGHT_PER_ADDRESS'> & Parameters<typeof rateLimitsFromEnv>[0]

/** The ingest app's proxy trust and limits as configured: one reading for standalone ingest and the embedded runner. */
export function edgeDepsFromEnv(env: EdgeEnv): Pick<IngestDeps, 'trust' | 'bodyLimitBytes' | 'rateLimits' | 'maxInFlight' | 'maxInFlightPerAddress' | 'addressExempt'> {
  return {
    trust: compileTrust(env.TRUSTED_PROXIES),
    bodyLimitBytes: env.INGEST_BODY_LIMIT,
    rateLimits: rateLimitsFromEnv(env),
    maxInFlight: env.INGEST_MAX_INFLIGHT,
    maxInFlightPerAddress: env.INGEST_MAX_INFLIGHT_PER_ADDRESS,
    ...(env.RATE_LIMIT_ADDRESS_EXEMPT.length ? { addressExempt: compileTrust(env.RATE_LIMIT_ADDRESS_EXEMPT) } : {}),
  }
}

type ListenEnv = Pick<
  IngestEnv,
  | 'TRUSTED_PROXIES'
  | 'RATE_LIMIT_ADDRESS_EXEMPT'
  | 'INGEST_REQUEST_TIMEOUT_MS'
  | 'INGEST_BODY_TIMEOUT_MS'
  | 'INGEST_MAX_CONNECTIONS'
  | 'INGEST_FD_RESERVE'
  | 'INGEST_MAX_CONNECTIONS_PER_ADDRESS'
>

/**
 * The ingest listener's bounds as configured, counted in ingest's metrics: request and body deadlines, and
 * connections in total (from the open-file limit unless set) and per peer address. Proxies we trust and
 * exempt addresses stand for many clients, so the per-address bound skips them.
 */
export function edgeListenOptions(
  env: ListenEnv,
  metrics: IngestMetrics,
  logger?: Logger,
  fileLimit: number | undefined = openFileLimit(),
): ListenOptions & { bound: ConnectionBound } {
  const bound = connectionBound(env.INGEST_MAX_CONNECTIONS, fileLimit, env.INGEST_FD_RESERVE)
  if (bound.source === 'unknown_limit') logger?.warn('the open-file limit is unknown: ingest connections are unbounded; set INGEST_MAX_CONNECTIONS')
  else logger?.info({ maxConnections: bound.maxConnections, source: bound.source, fileLimit: bound.fileLimit, reserve: bound.reserve }, 'ingest connection bound')
  return {
    bound,
    requestTimeoutMs: env.INGEST_REQUEST_TIMEOUT_MS,
    bodyTimeoutMs: env.INGEST_BODY_TIMEOUT_MS,
    connections: {
      ...(bound.maxConnections === undefined ? {} : { maxConnections: bound.maxConnections }),
      maxPerAddress: env.INGEST_MAX_CONNECTIONS_PER_ADDRESS,
      exempt: exemptAddresses(compileTrust(env.TRUSTED_PROXIES), compileTrust(env.RATE_LIMIT_ADDRESS_EXEMPT)),
      onRefused: (reason) => metrics.connectionsRefused.inc({ reason }),
      onOpenChange: (open) => metrics.openConnections.set(open),
    },
    // Requests refused before the app (malformed HTTP, oversized headers, header timeouts) still count in atspark_ingest_requests_total.
    onRefused: (status, reason) => metrics.requests.inc({ status: String(status), reason }),
  }
}
