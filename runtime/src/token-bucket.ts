import { LRUCache } from 'lru-cache'

export interface TokenBucketOptions {
  /** Tokens added per second: the sustained rate. */
  ratePerSecond: number
  /** Bucket size: how many requests may arrive at once after a quiet spell. */
  burst: number
  /** Buckets kept; the least recently used is forgotten (and starts full again), so memory stays bounded. */
  maxKeys: number
}

export type Take = { ok: true } | { ok: false; retryAfterMs: number }

interface Bucket {
  tokens: number
  at: number
}

/**
 * One token bucket per key, refilled lazily on use: no timers, O(1) per request. A forgotten
 * bucket starts full, which is what an idle key would have refilled to anyway.
 */
export class TokenBuckets {
  private readonly buckets: LRUCache<string, Bucket>

  constructor(
    private readonly options: TokenBucketOptions,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.buckets = new LRUCache<string, Bucket>({ max: options.maxKeys })
  }

  /** Takes `cost` tokens from `key`'s bucket, or says how long until they would be there. */
  take(key: string, cost = 1): Take {
    const now = this.now()
    const { ratePerSecond, burst } = this.options
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond)
    bucket.at = now
    this.buckets.set(key, bucket)
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.ceil(((cost - bucket.tokens) / ratePerSecond) * 1000) }
  }

  /** Gives back `cost` tokens taken from `key`'s bucket for a request that was refused after all (never past the burst). */
  refund(key: string, cost = 1): void {
    const bucket = this.buckets.get(key)
    if (bucket) bucket.tokens = Math.min(this.options.burst, bucket.tokens + cost)
  }

  get size(): number {
    return this.buckets.size
  }
}
