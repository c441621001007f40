import { describe, expect, it } from 'vitest'
import { breakdownRestQuery, breakdownTopQuery, chooseRollup, consentQuery, resolveRange, StatsRequestError, timeseriesQuery } from './queries.js'

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
    expect(chooseRollup(r('2026-10-01', '2026-11-01'), 'day')).toBe('rollup_daily')
    expect(chooseRollup(r('2026-10-25', '2026-11-01'), 'day')).toBe('rollup_hourly')
    expect(chooseRollup(r('2026-10-01', '2026-11-01', 'Europe/Berlin'), 'day')).toBe('rollup_hourly')
    expect(chooseRollup(r('2026-10-01', '2026-11-01T05:00'), 'day')).toBe('rollup_hourly')
    expect(chooseRollup(r('2026-10-01', '2026-11-01'), 'hour')).toBe('rollup_hourly')
  })
})

describe('query builders', () => {
  const scope = { org: "org-a' OR 1=1 --", site: 'web', range: resolveRange({ from: '2026-10-01', to: '2026-11-01' }, 'UTC', NOW) }

  it('put every value in query_params, never in the SQL text', () => {
    const q = timeseriesQuery(scope, 'rollup_daily', 'week')
    expect(q.query).not.toContain('OR 1=1')
    expect(q.query).toContain('org_id = {org:String}')
    expect(q.query).toContain('FROM atspark.rollup_daily')
    expect(q.query).toContain('toMonday(bucket)')
    expect(q.query).toMatch(/SETTINGS max_execution_time = \d+, max_result_rows = \d+/)
    expect(q.query_params).toMatchObject({ org: scope.org, site: 'web', from: '2026-10-01', to: '2026-11-01' })
  })

  it('merges hourly states in the requested time zone', () => {
    const q = timeseriesQuery({ ...scope, range: { ...scope.range, tz: 'Asia/Tokyo' } }, 'rollup_hourly', 'day')
    expect(q.query).toContain('toDate(toTimeZone(bucket, {tz:String}))')
    expect(q.query).toContain('parseDateTimeBestEffort({from:String}, {tz:String})')
    expect(q.query_params.tz).toBe('Asia/Tokyo')
  })

  it('breakdowns name only values with k visitors and fold the rest into "other"', () => {
    const spec = { dimension: 'url_path' as const, type: 'pageview', limit: 10, k: 5 }
    const top = breakdownTopQuery(scope, 'rollup_daily', spec)
    expect(top.query).toContain('HAVING visitors >= {k:UInt32}')
    expect(top.query).toContain('type = {type:String}')
    expect(top.query_params).toMatchObject({ k: 5, limit: 10, type: 'pageview' })
    const rest = breakdownRestQuery(scope, 'rollup_daily', spec, ['/a', "/b'"])
    expect(rest.query).toContain('NOT IN {kept:Array(String)}')
    expect(rest.query).not.toContain("/b'")
    expect(rest.query_params.kept).toEqual(['/a', "/b'"])
  })

  it('refuses a dimension outside the whitelist', () => {
    expect(() => breakdownTopQuery(scope, 'rollup_daily', { dimension: 'anon_id' as never, limit: 1, k: 5 })).toThrow(/not a dimension/)
  })

  it('reads consent receipts from consent_log', () => {
    const q = consentQuery(scope)
    expect(q.query).toContain('FROM atspark.consent_log')
    expect(q.query).toContain('org_id = {org:String}')
  })
})
