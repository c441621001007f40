import { describe, expect, it } from 'vitest'
import { bounceQuery, bounceRates } from './bounce.js'
import { resolveRange } from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')

describe('bounceRates at the boundary', () => {
  const shown = [{ t: 'a', hidden: false }]

  it('gives a rate for sessions of exactly k visitors and none for k−1', () => {
    expect(bounceRates(shown, [{ t: 'a', bounces: 1, sessions: 4, visitors: 5 }], 5, null)).toEqual([0.25])
    expect(bounceRates(shown, [{ t: 'a', bounces: 1, sessions: 4, visitors: 4 }], 5, null)).toEqual([null])
  })

  it('gives no rate without a session, and none for a bucket the counts do not hold', () => {
    expect(bounceRates(shown, [{ t: 'a', bounces: 0, sessions: 0, visitors: 9 }], 5, null)).toEqual([null])
    expect(bounceRates(shown, [{ t: 'b', bounces: 1, sessions: 2, visitors: 9 }], 5, null)).toEqual([null])
  })

  it('gives a rate just after the retention horizon', () => {
    expect(bounceRates([{ t: '2026-11-02', hidden: false }], [{ t: '2026-11-02', bounces: 1, sessions: 2, visitors: 9 }], 5, '2026-11-01')).toEqual([0.5])
  })
})

describe('bounceQuery', () => {
  it('reads whole sessions a day either side, counts bounces, sessions and their visitors per bucket', () => {
    const scope = { org: 'org-a', site: 'web', range: resolveRange({ from: '2026-11-01', to: '2026-11-08' }, 'UTC', NOW) }
    const q = bounceQuery(scope, 'hour', { maxExecutionSeconds: 4, maxResultRows: 7 })
    const sql = q.query.replace(/\s+/g, ' ')
    expect(sql).toContain("SELECT formatDateTime(toTimeZone(toStartOfHour(toDateTime(first_ts)), {tz:String}), '%Y-%m-%dT%H:00:00') AS t,")
    expect(sql).toContain('countIf(n_events = 1) AS n_bounces, count() AS n_sessions, uniqExact(anon) AS n_visitors')
    expect(sql).toContain("SELECT session_id, min(ts) AS first_ts, count() AS n_events, countIf(type = 'pageview') AS n_pageviews, argMin(anon_id, ts) AS anon")
    expect(sql).toContain('ts >= parseDateTimeBestEffort({from:String}, {tz:String}) - INTERVAL 1 DAY AND ts < parseDateTimeBestEffort({to:String}, {tz:String}) + INTERVAL 1 DAY')
    expect(sql).toContain(
      'HAVING n_pageviews >= 1 AND toStartOfHour(toDateTime(first_ts)) >= parseDateTimeBestEffort({from:String}, {tz:String}) AND toStartOfHour(toDateTime(first_ts)) < parseDateTimeBestEffort({to:String}, {tz:String}) )',
    )
    expect(sql).toContain('GROUP BY t ORDER BY t LIMIT {limit:UInt32} SETTINGS max_execution_time = 4, max_result_rows = 7')
    expect(q.query_params['limit']).toBe(7)
  })
})
