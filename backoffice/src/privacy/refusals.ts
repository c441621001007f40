import { addressKey, truncateIp } from '@atspark/runtime'
import { type AuditRow, fromWarehouseTime, toWarehouseTime } from '@atspark/schemas'
import { LRUCache } from 'lru-cache'
import { Counter, type Registry } from 'prom-client'

/** Why a back-office call was turned away before it did anything. */
export const RefusalResult = {
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  rateLimited: 'rate_limited',
} as const
export type RefusalResult = (typeof RefusalResult)[keyof typeof RefusalResult]

export interface RefusalOptions {
  /** Refused attempts an address earns back per second (BACKOFFICE_REFUSED_RPS). */
  ratePerSecond: number
  /** Refused attempts an address may make at once before it gets 429 (BACKOFFICE_REFUSED_BURST). */
  burst: number
  /** Address buckets kept (LRU); also bounds the per-minute tallies waiting to be audited. */
  maxTracked: number
  registry?: Registry
  now?: () => number
}

interface Bucket {
  tokens: number
  at: number
}

interface Tally {
  minute: number
  prefix: string
  actor: string
  org: string
  action: string
  result: RefusalResult
  attempts: number
}

const MINUTE_MS = 60_000
/** Where tallies go once `maxTracked` distinct ones wait: a flood of fresh prefixes cannot grow memory. */
const OVERFLOW_PREFIX = 'other'

/**
 * Refused back-office attempts: a token bucket per address that only refusals drain (a valid key
 * never costs one), and the audit trail of those refusals as counts per (minute, address prefix,
 * actor, action, result), never a row per attempt and never a subject the caller chose.
 */
export class RefusedAttempts {
  private readonly buckets: LRUCache<string, Bucket>
  private readonly tallies = new Map<string, Tally>()
  private readonly counter: Counter<'result'> | undefined
  private readonly now: () => number

  constructor(private readonly options: RefusalOptions) {
    this.buckets = new LRUCache<string, Bucket>({ max: options.maxTracked })
    this.now = options.now ?? Date.now
    this.counter = options.registry
      ? new Counter({
          name: 'atspark_backoffice_refused_total',
          help: 'Back-office calls refused before any body was read, by result: unauthorized (401), forbidden (403), rate_limited (429)',
          labelNames: ['result'] as const,
          registers: [options.registry],
        })
      : undefined
  }

  /**
   * Before the key is even looked at: how long until `address` may try again, when its refusals
   * have emptied its bucket. Checked first so a key cannot be guessed faster than the refill rate.
   */
  retryAfterMs(address: string): number | undefined {
    const bucket = this.refill(addressKey(address))
    return bucket.tokens >= 1 ? undefined : Math.ceil(((1 - bucket.tokens) / this.options.ratePerSecond) * 1000)
  }

  /** Records one refused attempt: it costs the address a token (not for a 429) and adds one to this minute's tally. */
  refused(address: string, who: { actor: string; org: string; action: string }, result: RefusalResult): void {
    if (result !== RefusalResult.rateLimited) {
      const bucket = this.refill(addressKey(address))
      bucket.tokens = Math.max(0, bucket.tokens - 1)
    }
    this.counter?.inc({ result })
    const minute = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS
    let prefix = truncateIp(address)?.prefix ?? 'unknown'
    let id = [minute, prefix, who.actor, who.org, who.action, result].join('|')
    if (!this.tallies.has(id) && this.tallies.size >= this.options.maxTracked) {
      prefix = OVERFLOW_PREFIX
      id = [minute, prefix, who.actor, who.org, who.action, result].join('|')
    }
    const tally = this.tallies.get(id)
    if (tally) tally.attempts++
    else this.tallies.set(id, { minute, prefix, actor: who.actor, org: who.org, action: who.action, result, attempts: 1 })
  }

  /**
   * Takes the tallies of finished minutes (all of them with `all`) as audit_log rows: time is the
   * minute, subject_hash is empty, detail holds the address prefix (/24, /48) and the count.
   */
  drain(all = false): AuditRow[] {
    const current = Math.floor(this.now() / MINUTE_MS) * MINUTE_MS
    const rows: AuditRow[] = []
    for (const [id, t] of this.tallies) {
      if (!all && t.minute >= current) continue
      this.tallies.delete(id)
      rows.push({
        time: toWarehouseTime(t.minute),
        actor_key_id: t.actor,
        org_id: t.org,
        action: t.action,
        subject_hash: '',
        result: t.result,
        detail: JSON.stringify({ address_prefix: t.prefix, attempts: t.attempts, per: 'minute' }),
      })
    }
    return rows
  }

  /** Puts back rows that could not be written, so the next flush tries them again (still bounded). */
  restore(rows: readonly AuditRow[]): void {
    for (const row of rows) {
      const detail = JSON.parse(row.detail) as { address_prefix: string; attempts: number }
      const minute = fromWarehouseTime(row.time)
      const id = [minute, detail.address_prefix, row.actor_key_id, row.org_id, row.action, row.result].join('|')
      const tally = this.tallies.get(id)
      if (tally) tally.attempts += detail.attempts
      else if (this.tallies.size < this.options.maxTracked)
        this.tallies.set(id, { minute, prefix: detail.address_prefix, actor: row.actor_key_id, org: row.org_id, action: row.action, result: row.result as RefusalResult, attempts: detail.attempts })
    }
  }

  private refill(key: string): Bucket {
    const now = this.now()
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: now }
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.ratePerSecond)
    bucket.at = now
    this.buckets.set(key, bucket)
    return bucket
  }
}
