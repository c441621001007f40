import { describe, expect, it } from 'vitest'
import { adoptionQuery, breakdownRestQuery, breakdownTopQuery, chooseRollup, chooseSource, consentQuery, resolveRange, StatsRequestError, timeseriesQuery } from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')

describe('resolveRange', () => {
  it('defaults to the 30 days ending tomorrow (UTC), to exclusive', () => {
    expect(resolveRange({}, 'UTC', NOW)).toEqual({ from: '2026-10-30', to: '2026-11-29', tz: 'UTC', days: 30 })
  })

  it('refuses reversed, empty, too long ranges and unknown time zones', () => {
    expect(() => resolveRange({ from: '2026-11-02', to: '2026-11-01' }, 'UTC', NOW)).toThrow(StatsRequestError)
    expect(() => resolveRange({ from: '2026-11-01', to: '2026-11-01' }, 'UTC', NOW)).toThrow(StatsRequestError)
    expect(() => resolveRange({ from: '2020-01-01', to: '2026-11-01' }, 'UTC', NOW)).toThrow(/at most/)
    expect(() => resolveRange({}, 'Mars/Olympus', NOW)).toThrow(/time zone/)
    expect(() => resolveRange({}, "UTC'; DROP TABLE x", NOW)).toThrow(/time zone/)
  })
})

describe('chooseRollup', () => {
  const r = (from: string, to: string, tz = 'UTC') => resolveRange({ from, to }, tz, NOW)
  it('reads daily states for whole UTC days over more than a week, hourly ones otherwise', () => {
    expect(chooseRollup(r('2026-10-01', '2026-11-01'), 'day')).toBe('rollup_dims_daily')
    expect(chooseRollup(r('2026-10-25', '2026-11-01'), 'day')).toBe('rollup_dims_hourly')
    expect(chooseRollup(r('2026-10-01', '2026-11-01', 'Europe/Berlin'), 'day')).toBe('rollup_dims_hourly')
    expect(chooseRollup(r('2026-10-01', '2026-11-01T05:00'), 'day')).toBe('rollup_dims_hourly')
    expect(chooseRollup(r('2026-10-01', '2026-11-01'), 'hour')).toBe('rollup_dims_hourly')
  })
})

describe('chooseSource', () => {
  const r = (from: string, to: string) => resolveRange({ from, to }, 'UTC', NOW)
  it('reads events for raw, and the rollup chooseRollup picks for auto and rollup', () => {
    expect(chooseSource(r('2026-10-01', '2026-11-01'), 'day', 'raw')).toBe('events')
    expect(chooseSource(r('2026-10-01', '2026-11-01'), 'day', 'auto')).toBe('rollup_dims_daily')
    expect(chooseSource(r('2026-10-01', '2026-11-01'), 'day', 'rollup')).toBe('rollup_dims_daily')
    expect(chooseSource(r('2026-10-28', '2026-11-01'), 'day', 'rollup')).toBe('rollup_dims_hourly')
  })
})

describe('query builders', () => {
  const scope = { org: "org-a' OR 1=1 --", site: 'web', range: resolveRange({ from: '2026-10-01', to: '2026-11-01' }, 'UTC', NOW) }

  it('put every value in query_params, never in the SQL text', () => {
    const q = timeseriesQuery(scope, 'rollup_dims_daily', 'week')
    expect(q.query).not.toContain('OR 1=1')
    expect(q.query).toContain('org_id = {org:String}')
    expect(q.query).toContain('FROM atspark.rollup_dims_daily')
    expect(q.query).toContain('toMonday(bucket)')
    expect(q.query).toMatch(/SETTINGS max_execution_time = \d+, max_result_rows = \d+/)
    expect(q.query_params).toMatchObject({ org: scope.org, site: 'web', from: '2026-10-01', to: '2026-11-01' })
  })

  it('merges hourly states in the requested time zone', () => {
    const q = timeseriesQuery({ ...scope, range: { ...scope.range, tz: 'Asia/Tokyo' } }, 'rollup_dims_hourly', 'day')
    expect(q.query).toContain('toDate(toTimeZone(bucket, {tz:String}))')
    expect(q.query).toContain('parseDateTimeBestEffort({from:String}, {tz:String})')
    expect(q.query_params.tz).toBe('Asia/Tokyo')
  })

  it('breakdowns name only values with k visitors and fold the rest into "other"', () => {
    const spec = { dimension: 'url_path' as const, type: 'pageview', limit: 10, k: 5 }
    const top = breakdownTopQuery(scope, 'rollup_dims_daily', spec)
    expect(top.query).toContain('HAVING visitors >= {k:UInt32}')
    expect(top.query).toContain('type = {type:String}')
    expect(top.query_params).toMatchObject({ k: 5, limit: 10, type: 'pageview' })
    const rest = breakdownRestQuery(scope, 'rollup_dims_daily', spec, ['/a', "/b'"])
    expect(rest.query).toContain('NOT IN {kept:Array(String)}')
    expect(rest.query).not.toContain("/b'")
    expect(rest.query_params.kept).toEqual(['/a', "/b'"])
  })

  it('rollup reads take one dimension’s rows: the totals for a series, the dimension for a breakdown, name for adoption', () => {
    const series = timeseriesQuery(scope, 'rollup_dims_daily', 'day')
    expect(series.query).toContain("is_bot = 0 AND bucket >= toDate({from:String}) AND bucket < toDate({to:String}) AND dimension = ''")
    expect(series.query).toContain("uniqMerge(visitors) AS n_visitors, sumIf(events, type = 'pageview') AS n_pageviews")
    const spec = { dimension: 'country' as const, limit: 10, k: 5 }
    const top = breakdownTopQuery(scope, 'rollup_dims_hourly', spec)
    expect(top.query).toContain('SELECT value, uniqMerge(visitors) AS visitors, sum(events) AS events')
    expect(top.query).toContain('AND dimension = {dimension:String}')
    expect(top.query_params.dimension).toBe('country')
    const rest = breakdownRestQuery(scope, 'rollup_dims_hourly', spec, ['DE'])
    expect(rest.query).toContain('AND dimension = {dimension:String} AND value NOT IN {kept:Array(String)}')
    expect(rest.query_params).toMatchObject({ dimension: 'country', kept: ['DE'] })
    const a = adoptionQuery(scope, 'rollup_dims_daily', 'week', 'export')
    expect(a.query).toContain("type = 'feature' AND dimension = 'name' AND value = {feature:String}")
    expect(a.query_params.feature).toBe('export')
    // Raw reads have no dimension column to filter on.
    expect(breakdownTopQuery(scope, 'events', spec).query_params).not.toHaveProperty('dimension')
    expect(timeseriesQuery(scope, 'events', 'day').query).not.toContain('dimension')
  })

  it('raw reads count exactly from events, bucketed by the hour like the hourly rollup, bots and empty ids left out', () => {
    const tokyo = { ...scope, range: { ...scope.range, tz: 'Asia/Tokyo' } }
    const q = timeseriesQuery(tokyo, 'events', 'day')
    expect(q.query).toContain('FROM atspark.events')
    expect(q.query).toContain("uniqExactIf(anon_id, anon_id != '') AS n_visitors")
    expect(q.query).toContain("countIf(type = 'pageview') AS n_pageviews")
    expect(q.query).toContain('count() AS n_events')
    expect(q.query).toContain("uniqExactIf(session_id, session_id != '') AS n_sessions")
    expect(q.query).toContain('toString(toDate(toTimeZone(toStartOfHour(toDateTime(ts)), {tz:String}))) AS t')
    expect(q.query).toContain('is_bot = 0')
    expect(q.query).toContain('ts >= parseDateTimeBestEffort({from:String}, {tz:String})')
    expect(q.query).toContain('toStartOfHour(toDateTime(ts)) < parseDateTimeBestEffort({to:String}, {tz:String})')
    expect(q.query).not.toContain('uniqMerge')
    expect(q.query).not.toContain('OR 1=1')
    const a = adoptionQuery(scope, 'events', 'week', 'export')
    expect(a.query).toContain("uniqExactIf(user_pid, user_pid != '') AS n_accounts")
    expect(a.query).toContain("type = 'feature' AND name = {feature:String}")
    const top = breakdownTopQuery(scope, 'events', { dimension: 'country', limit: 10, k: 5 })
    expect(top.query).toContain("SELECT toString(country) AS value, uniqExactIf(anon_id, anon_id != '') AS visitors, count() AS events")
    expect(top.query).toContain('HAVING visitors >= {k:UInt32}')
    const rest = breakdownRestQuery(scope, 'events', { dimension: 'country', limit: 10, k: 5 }, ['DE'])
    expect(rest.query).toContain('FROM atspark.events')
    expect(rest.query).toContain('NOT IN {kept:Array(String)}')
  })

  it('refuses a dimension outside the whitelist', () => {
    expect(() => breakdownTopQuery(scope, 'rollup_dims_daily', { dimension: 'anon_id' as never, limit: 1, k: 5 })).toThrow(/not a dimension/)
  })

  it('reads consent receipts from consent_log', () => {
    const q = consentQuery(scope)
    expect(q.query).toContain('FROM atspark.consent_log')
    expect(q.query).toContain('org_id = {org:String}')
  })
})
