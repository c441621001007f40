import type { IngestEnv } from './env.js'
import { RateLimits } from './rate-limit.js'

type RateLimitEnv = Pick<
  IngestEnv,
  'RATE_LIMIT_KEY_RPS' | 'RATE_LIMIT_KEY_BURST' | 'RATE_LIMIT_KEY_ADDRESS_SHARE' | 'RATE_LIMIT_ADDRESS_RPS' | 'RATE_LIMIT_ADDRESS_BURST' | 'RATE_LIMIT_ADDRESS_EXEMPT' | 'RATE_LIMIT_MAX_TRACKED'
>

/** The rate limits as configured: RATE_LIMIT_* (ingest/src/env.ts). */
export function rateLimitsFromEnv(env: RateLimitEnv): RateLimits {
  return new RateLimits({
    keyRps: env.RATE_LIMIT_KEY_RPS,
    keyBurst: env.RATE_LIMIT_KEY_BURST,
    keyAddressShare: env.RATE_LIMIT_KEY_ADDRESS_SHARE,
    addressRps: env.RATE_LIMIT_ADDRESS_RPS,
    addressBurst: env.RATE_LIMIT_ADDRESS_BURST,
    addressExempt: env.RATE_LIMIT_ADDRESS_EXEMPT,
    maxTracked: env.RATE_LIMIT_MAX_TRACKED,
  })
}
