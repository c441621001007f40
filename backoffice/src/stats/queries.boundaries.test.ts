import type { StatsDimension } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import {
  approxMs,
  breakdownRestQuery,
  breakdownTopQuery,
  chooseRollup,
  hourBucketExpression,
  hourRange,
  MAX_RANGE_DAYS,
  resolveRange,
  settings,
  StatsRequestError,
  timeseriesQuery,
} from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')
const scope = { org: 'org-a', site: 'web', range: resolveRange({ from: '2026-10-01', to: '2026-11-01' }, 'UTC', NOW) }

describe('resolveRange at its limits', () => {
  it(`answers exactly ${MAX_RANGE_DAYS} days and refuses one day more`, () => {
    expect(resolveRange({ from: '2024-09-01', to: '2026-11-10' }, 'UTC', NOW).days).toBe(MAX_RANGE_DAYS)
    expect(() => resolveRange({ from: '2024-08-31', to: '2026-11-10' }, 'UTC', NOW)).toThrow(StatsRequestError)
  })

  it('measures hour-precise ranges and defaults `from` to 30 days before a given `to`', () => {
    expect(resolveRange({ from: '2026-11-01T06:30', to: '2026-11-01T18:30' }, 'UTC', NOW).days).toBe(0.5)
    expect(resolveRange({ to: '2026-11-01' }, 'UTC', NOW)).toMatchObject({ from: '2026-10-02', to: '2026-11-01', days: 30 })
    expect(approxMs('2026-11-01T06:30:59')).toBe(Date.parse('2026-11-01T06:30:00Z'))
  })

  it('refuses dates that are not dates, naming the parameter and the reason', () => {
    // Not 'yesterday': V8's lenient Date.parse reads 'yesterday:00Z' as 2000-01-01.
    const thrown = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        return err
      }
      throw new Error('expected a StatsRequestError')
    }
    expect(thrown(() => resolveRange({ from: '2026-13-45', to: '2026-11-01' }, 'UTC', NOW))).toMatchObject({ message: 'not a real date', code: 'invalid_date', param: 'from' })
    expect(thrown(() => resolveRange({ from: '2026-11-01', to: '2026-11-01T99:00' }, 'UTC', NOW))).toMatchObject({ message: 'not a real date', code: 'invalid_date', param: 'to' })
    expect(thrown(() => resolveRange({ from: '2026-11-02', to: '2026-11-01' }, 'UTC', NOW))).toMatchObject({ message: 'from must be before to', code: 'invalid_range', param: 'from' })
    expect(thrown(() => resolveRange({}, 'Mars/Olympus', NOW))).toMatchObject({ code: 'invalid_timezone', param: 'tz' })
  })
})

describe('chooseRollup at its limits', () => {
  const r = (from: string, to: string, tz = 'UTC') => resolveRange({ from, to }, tz, NOW)
  it('reads hourly states for exactly a week and daily ones from eight days, in UTC or Etc/UTC', () => {
    expect(chooseRollup(r('2026-10-25', '2026-11-01'), 'day')).toBe('rollup_dims_hourly')
    expect(chooseRollup(r('2026-10-24', '2026-11-01'), 'day')).toBe('rollup_dims_daily')
    expect(chooseRollup(r('2026-10-24', '2026-11-01', 'Etc/UTC'), 'day')).toBe('rollup_dims_daily')
    expect(chooseRollup(r('2026-10-24', '2026-11-01'), undefined)).toBe('rollup_dims_daily')
    expect(chooseRollup(r('2026-10-01T00:00', '2026-11-01'), 'day')).toBe('rollup_dims_hourly')
  })
})

describe('bucket expressions', () => {
  it('labels every interval in the requested zone', () => {
    expect(hourBucketExpression('h', 'hour')).toBe("formatDateTime(toTimeZone(h, {tz:String}), '%Y-%m-%dT%H:00:00')")
    expect(hourBucketExpression('h', 'day')).toBe('toString(toDate(toTimeZone(h, {tz:String})))')
    expect(hourBucketExpression('h', 'week')).toBe('toString(toMonday(toTimeZone(h, {tz:String})))')
    expect(hourBucketExpression('h', 'month')).toBe('toString(toStartOfMonth(toTimeZone(h, {tz:String})))')
  })

  it('buckets daily states by their day, week or month and refuses hours', () => {
    expect(timeseriesQuery(scope, 'rollup_dims_daily', 'day').query).toContain('SELECT toString(bucket) AS t,')
    expect(timeseriesQuery(scope, 'rollup_dims_daily', 'week').query).toContain('SELECT toString(toMonday(bucket)) AS t,')
    expect(timeseriesQuery(scope, 'rollup_dims_daily', 'month').query).toContain('SELECT toString(toStartOfMonth(bucket)) AS t,')
    expect(() => timeseriesQuery(scope, 'rollup_dims_daily', 'hour')).toThrow(/no hours/)
    expect(timeseriesQuery(scope, 'rollup_dims_hourly', 'hour').query).toContain("SELECT formatDateTime(toTimeZone(bucket, {tz:String}), '%Y-%m-%dT%H:00:00') AS t,")
  })

  it('bounds hours by the range, and raw timestamps by the range plus the last hour', () => {
    const from = 'parseDateTimeBestEffort({from:String}, {tz:String})'
    const to = 'parseDateTimeBestEffort({to:String}, {tz:String})'
    expect(hourRange('h')).toBe(`h >= ${from} AND h < ${to}`)
    expect(hourRange('h', 'ts')).toBe(`ts >= ${from} AND ts < ${to} + INTERVAL 1 HOUR AND h >= ${from} AND h < ${to}`)
  })
})

describe('the range filter of each table', () => {
  const from = 'parseDateTimeBestEffort({from:String}, {tz:String})'
  const to = 'parseDateTimeBestEffort({to:String}, {tz:String})'

  it('bounds hourly states by their bucket, raw events by ts and their hour, daily states by day', () => {
    expect(timeseriesQuery(scope, 'rollup_dims_hourly', 'day').query).toContain(
      `WHERE org_id = {org:String} AND site_id = {site:String} AND is_bot = 0 AND bucket >= ${from} AND bucket < ${to} AND dimension = ''\nGROUP BY t`,
    )
    expect(timeseriesQuery(scope, 'events', 'day').query).toContain(
      `AND is_bot = 0 AND ts >= ${from} AND ts < ${to} + INTERVAL 1 HOUR AND toStartOfHour(toDateTime(ts)) >= ${from} AND toStartOfHour(toDateTime(ts)) < ${to}\nGROUP BY t`,
    )
    expect(timeseriesQuery(scope, 'rollup_dims_daily', 'day').query).toContain(
      "AND is_bot = 0 AND bucket >= toDate({from:String}) AND bucket < toDate({to:String}) AND dimension = ''\nGROUP BY t",
    )
  })

  it('adds nothing after the filters when a breakdown has no type', () => {
    expect(breakdownTopQuery(scope, 'events', { dimension: 'os', limit: 3, k: 5 }).query).toContain(`toStartOfHour(toDateTime(ts)) < ${to}\nGROUP BY value`)
    expect(breakdownTopQuery(scope, 'rollup_dims_daily', { dimension: 'os', limit: 3, k: 5 }).query).toContain('AND dimension = {dimension:String}\nGROUP BY value')
  })
})

describe('measures and limits', () => {
  it('merges sketches from the rollups for every measure', () => {
    const q = timeseriesQuery(scope, 'rollup_dims_hourly', 'day').query
    expect(q).toContain(
      "uniqMerge(visitors) AS n_visitors, sumIf(events, type = 'pageview') AS n_pageviews, sum(events) AS n_events, uniqMerge(sessions) AS n_sessions",
    )
    expect(q).toContain('GROUP BY t ORDER BY t\nLIMIT {limit:UInt32}')
  })

  it('caps rows and time with whole numbers, throwing on overflow', () => {
    expect(settings({ maxExecutionSeconds: 2.9, maxResultRows: 100.5 })).toBe("SETTINGS max_execution_time = 2, max_result_rows = 100, result_overflow_mode = 'throw'")
    const q = timeseriesQuery(scope, 'events', 'day', { maxExecutionSeconds: 3, maxResultRows: 50 })
    expect(q.query).toContain('SETTINGS max_execution_time = 3, max_result_rows = 50')
    expect(q.query_params['limit']).toBe(50)
    expect(timeseriesQuery(scope, 'events', 'day').query).toContain('SETTINGS max_execution_time = 10, max_result_rows = 10000')
  })
})

describe('breakdown columns', () => {
  const columns: Record<StatsDimension, string> = {
    url_path: 'url_path',
    referrer_host: 'referrer_host',
    country: 'country',
    browser: 'browser',
    os: 'os',
    device_type: 'device_type',
    name: 'name',
  }

  it('reads each dimension from its own column in events, from `value` in the rollups', () => {
    for (const [dimension, column] of Object.entries(columns) as [StatsDimension, string][]) {
      const spec = { dimension, limit: 3, k: 5 }
      const rawTop = breakdownTopQuery(scope, 'events', spec)
      expect(rawTop.query).toContain(`SELECT toString(${column}) AS value, `)
      expect(rawTop.query_params).toEqual({ org: 'org-a', site: 'web', from: '2026-10-01', to: '2026-11-01', tz: 'UTC', k: 5, limit: 3 })
      expect(breakdownRestQuery(scope, 'events', spec, []).query).toContain(`AND toString(${column}) NOT IN {kept:Array(String)}`)
      const rollupTop = breakdownTopQuery(scope, 'rollup_dims_daily', spec)
      expect(rollupTop.query).toContain('SELECT value, ')
      expect(rollupTop.query_params['dimension']).toBe(dimension)
      expect(breakdownRestQuery(scope, 'rollup_dims_daily', spec, []).query_params['dimension']).toBe(dimension)
    }
  })

  it('orders named rows by visitors, events, then value, and filters by type only when asked', () => {
    const top = breakdownTopQuery(scope, 'rollup_dims_daily', { dimension: 'name', limit: 3, k: 5 })
    expect(top.query).toContain('GROUP BY value\nHAVING visitors >= {k:UInt32}\nORDER BY visitors DESC, events DESC, value ASC\nLIMIT {limit:UInt32}')
    expect(top.query).not.toContain('type = {type:String}')
    expect(top.query_params).not.toHaveProperty('type')
    const rest = breakdownRestQuery(scope, 'rollup_dims_daily', { dimension: 'name', limit: 3, k: 5 }, [])
    expect(rest.query).toContain('SELECT uniqMerge(visitors) AS visitors, sum(events) AS events')
    expect(rest.query).not.toContain('type = {type:String}')
    expect(rest.query_params).not.toHaveProperty('type')
    const typed = breakdownRestQuery(scope, 'rollup_dims_daily', { dimension: 'name', type: 'click', limit: 3, k: 5 }, [])
    expect(typed.query).toContain(' AND type = {type:String} AND value NOT IN')
    expect(typed.query_params['type']).toBe('click')
  })
})
