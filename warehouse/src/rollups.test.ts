import { describe, expect, it } from 'vitest'
import { StatsDimension } from '@atspark/schemas'
import { MIGRATIONS } from './migrations.js'
import { nextDay, parseBackfillArgs, ROLLUP_DIMENSIONS, ROLLUP_TABLES, type RollupTable, rollupSelect, rollupViewSelect } from './rollups.js'

describe('backfill arguments', () => {
  it('takes --from and --to as inclusive days, in either spelling, both optional', () => {
    expect(parseBackfillArgs([])).toEqual({})
    expect(parseBackfillArgs(['--from', '2026-10-01', '--to=2026-10-31'])).toEqual({ from: '2026-10-01', to: '2026-10-31' })
    expect(parseBackfillArgs(['--to', '2026-10-31'])).toEqual({ to: '2026-10-31' })
  })

  it('refuses bad dates, reversed ranges, missing values and unknown flags', () => {
    expect(() => parseBackfillArgs(['--from', '2026-13-01'])).toThrow(/invalid arguments/)
    expect(() => parseBackfillArgs(['--from', '2026-10-02', '--to', '2026-10-01'])).toThrow(/must not be after/)
    expect(() => parseBackfillArgs(['--from'])).toThrow(/needs a date/)
    expect(() => parseBackfillArgs(['--org', 'a'])).toThrow(/unknown argument/)
  })
})

describe('nextDay', () => {
  it('crosses months, years and leap days in UTC', () => {
    expect(nextDay('2026-10-31')).toBe('2026-11-01')
    expect(nextDay('2026-12-31')).toBe('2027-01-01')
    expect(nextDay('2028-02-28')).toBe('2028-02-29')
  })
})

describe('rollupSelect', () => {
  it('groups by org, site, dimension, bucket and value only, and reads identifiers only inside sketches', () => {
    const sql = rollupSelect('rollup_dims_hourly')
    expect(sql).toContain('toStartOfHour(toDateTime(ts)) AS bucket')
    expect(sql).toContain(`ARRAY JOIN ['', ${ROLLUP_DIMENSIONS.map((d) => `'${d}'`).join(', ')}] AS dimension, ['', ${ROLLUP_DIMENSIONS.join(', ')}] AS value`)
    expect(sql).toContain('GROUP BY org_id, site_id, dimension, is_bot, type, bucket, value')
    for (const id of ['anon_id', 'session_id', 'user_pid']) expect(sql).toMatch(new RegExp(`uniqStateIf\\(${id}, ${id} != ''\\)`))
    expect(sql).not.toMatch(/event_id|ip_prefix/)
    expect(rollupSelect('rollup_dims_daily')).toContain('toDate(ts) AS bucket')
  })

  it('is the SELECT of the views migration 8 created, with a ts range: a backfill writes the states the views would', () => {
    const v8 = MIGRATIONS.find((m) => m.version === 8)!
    for (const table of Object.keys(ROLLUP_TABLES) as RollupTable[]) {
      const view = v8.statements.find((s) => s.startsWith(`CREATE MATERIALIZED VIEW IF NOT EXISTS atspark.${table}_mv TO atspark.${table} AS\n`))
      expect(view, table).toBeDefined()
      expect(view!.slice(view!.indexOf('\n') + 1)).toBe(rollupViewSelect(table))
      expect(rollupSelect(table).replace(/\nWHERE [^\n]*/, '')).toBe(rollupViewSelect(table))
    }
  })

  it('keeps exactly the dimensions a breakdown may ask for', () => {
    expect([...ROLLUP_DIMENSIONS]).toEqual(StatsDimension.options)
  })
})

describe('migration 8', () => {
  it('creates the per-dimension rollups before dropping the views and tables of 6 and 7, every statement idempotent', () => {
    const v8 = MIGRATIONS.find((m) => m.version === 8)!
    expect(v8.statements.map((s) => s.split('\n')[0])).toEqual([
      'CREATE TABLE IF NOT EXISTS atspark.rollup_dims_hourly',
      'CREATE MATERIALIZED VIEW IF NOT EXISTS atspark.rollup_dims_hourly_mv TO atspark.rollup_dims_hourly AS',
      'CREATE TABLE IF NOT EXISTS atspark.rollup_dims_daily',
      'CREATE MATERIALIZED VIEW IF NOT EXISTS atspark.rollup_dims_daily_mv TO atspark.rollup_dims_daily AS',
      'DROP VIEW IF EXISTS atspark.rollup_hourly_mv',
      'DROP VIEW IF EXISTS atspark.rollup_daily_mv',
      'DROP TABLE IF EXISTS atspark.rollup_hourly',
      'DROP TABLE IF EXISTS atspark.rollup_daily',
    ])
    const table = v8.statements[0]!
    expect(table).toContain('ORDER BY (org_id, site_id, dimension, is_bot, type, bucket, value)')
    expect(table).toContain('PARTITION BY toYYYYMM(bucket)')
    expect(table).toContain('TTL toDateTime(bucket) + INTERVAL 25 MONTH')
    expect(table).not.toMatch(/anon_id|session_id|user_pid|event_id|ip_prefix/)
  })
})
