import type { IngestDeps } from './app.js'
import { compileTrust } from './client-ip.js'
import type { IngestEnv } from './env.js'
import { rateLimitsFromEnv } from './rate-limit-env.js'

type EdgeEnv = Pick<IngestEnv, 'TRUSTED_PROXIES' | 'INGEST_BODY_LIMIT' | 'INGEST_MAX_INFLIGHT'> & Parameters<typeof rateLimitsFromEnv>[0]

/** The ingest app's proxy trust and limits as configured: one reading for standalone ingest and the embedded runner. */
export function edgeDepsFromEnv(env: EdgeEnv): Pick<IngestDeps, 'trust' | 'bodyLimitBytes' | 'rateLimits' | 'maxInFlight'> {
  return {
    trust: compileTrust(env.TRUSTED_PROXIES),
    bodyLimitBytes: env.INGEST_BODY_LIMIT,
    rateLimits: rateLimitsFromEnv(env),
    maxInFlight: env.INGEST_MAX_INFLIGHT,
  }
}
