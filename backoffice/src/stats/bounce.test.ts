import { describe, expect, it } from 'vitest'
import { bounceQuery, bounceRates } from './bounce.js'
import { resolveRange } from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')
const scope = { org: "org-a' OR 1=1 --", site: 'web', range: resolveRange({ from: '2026-11-01', to: '2026-11-08' }, 'Asia/Tokyo', NOW) }

describe('bounceQuery', () => {
  it('reads sessions from raw events, a day either side, and buckets each by its first event like the hourly rollup', () => {
    const q = bounceQuery(scope, 'day')
    expect(q.query).toContain('FROM atspark.events')
    expect(q.query).not.toContain('OR 1=1')
    expect(q.query).toContain("is_bot = 0 AND session_id != ''")
    expect(q.query).toContain('- INTERVAL 1 DAY')
    expect(q.query).toContain('GROUP BY session_id')
    expect(q.query).toContain("HAVING n_pageviews >= 1 AND toStartOfHour(toDateTime(first_ts)) >= parseDateTimeBestEffort({from:String}, {tz:String})")
    expect(q.query).toContain('toString(toDate(toTimeZone(toStartOfHour(toDateTime(first_ts)), {tz:String}))) AS t')
    expect(q.query).toContain('countIf(n_events = 1) AS n_bounces')
    expect(q.query).toMatch(/SETTINGS max_execution_time = \d+/)
    expect(q.query_params).toMatchObject({ org: scope.org, site: 'web', from: '2026-11-01', to: '2026-11-08', tz: 'Asia/Tokyo' })
  })
})

describe('bounceRates', () => {
  const buckets = [
    { t: '2026-11-01', hidden: false },
    { t: '2026-11-02', hidden: true },
    { t: '2026-11-03', hidden: false },
    { t: '2026-11-04', hidden: false },
    { t: '2026-11-05', hidden: false },
  ]
  const counts = [
    { t: '2026-11-01', bounces: 2, sessions: 8, visitors: 6 },
    { t: '2026-11-02', bounces: 1, sessions: 2, visitors: 2 },
    { t: '2026-11-03', bounces: 1, sessions: 4, visitors: 4 },
    { t: '2026-11-05', bounces: 0, sessions: 7, visitors: 7 },
  ]

  it('bounces over sessions for shown buckets whose sessions come from at least k visitors', () => {
    expect(bounceRates(buckets, counts, 5, null)).toEqual([0.25, null, null, null, 0])
  })

  it('is null up to and including the bucket holding the raw retention horizon', () => {
    expect(bounceRates(buckets, counts, 5, '2026-11-01')).toEqual([null, null, null, null, 0])
    expect(bounceRates(buckets, counts, 5, '2026-11-05')).toEqual([null, null, null, null, null])
  })
})
