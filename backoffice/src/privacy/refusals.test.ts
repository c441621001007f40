import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { RefusalResult, RefusedAttempts } from './refusals.js'

const who = { actor: 'unknown', org: '', action: 'privacy.erase' }

describe('RefusedAttempts', () => {
  it('limits refusals per address with a token bucket, IPv6 by /64, and 429s cost nothing', () => {
    let now = 0
    const r = new RefusedAttempts({ ratePerSecond: 2, burst: 3, maxTracked: 100, now: () => now })
    for (let i = 0; i < 3; i++) {
      expect(r.retryAfterMs('2001:db8::1')).toBeUndefined()
      r.refused(i % 2 ? '2001:db8::1' : '2001:db8::ffff', who, RefusalResult.unauthorized)
    }
    expect(r.retryAfterMs('2001:db8::2')).toBe(500)
    r.refused('2001:db8::2', who, RefusalResult.rateLimited)
    now += 500
    expect(r.retryAfterMs('2001:db8::2')).toBeUndefined()
    expect(r.retryAfterMs('2001:db8:0:1::1')).toBeUndefined()
  })

  it('holds at most maxTracked tallies: the rest fold into one "other" prefix per minute', () => {
    const r = new RefusedAttempts({ ratePerSecond: 1, burst: 10, maxTracked: 100, now: () => 0 })
    for (let i = 0; i < 1_000; i++) r.refused(`10.${i >> 8}.${i & 255}.1`, who, RefusalResult.unauthorized)
    const rows = r.drain(true)
    expect(rows).toHaveLength(101)
    expect(rows.reduce((n, row) => n + JSON.parse(row.detail).attempts, 0)).toBe(1_000)
    expect(JSON.parse(rows.at(-1)!.detail)).toMatchObject({ address_prefix: 'other' })
  })

  it('takes back unwritten rows for the next flush, and counts every refusal in its metric', async () => {
    const registry = new Registry()
    const r = new RefusedAttempts({ ratePerSecond: 1, burst: 10, maxTracked: 100, now: () => 90_000, registry })
    r.refused('192.0.2.1', who, RefusalResult.unauthorized)
    r.refused('192.0.2.1', who, RefusalResult.rateLimited)
    const rows = r.drain(true)
    r.restore(rows)
    r.refused('192.0.2.77', who, RefusalResult.unauthorized)
    const again = r.drain(true)
    expect(again.map((row) => [row.time, row.result, JSON.parse(row.detail).attempts])).toEqual([
      ['1970-01-01 00:01:00.000', 'unauthorized', 2],
      ['1970-01-01 00:01:00.000', 'rate_limited', 1],
    ])
    expect(await registry.getSingleMetricAsString('atspark_backoffice_refused_total')).toContain('atspark_backoffice_refused_total{result="unauthorized"} 2')
  })
})
