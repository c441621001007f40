import { describe, expect, it } from 'vitest'
import { nextDay, parseBackfillArgs, ROLLUP_DIMENSIONS, rollupSelect } from './rollups.js'

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
  it('groups by org, site, bucket and the dimensions only, and reads identifiers only inside sketches', () => {
    const sql = rollupSelect('rollup_hourly')
    expect(sql).toContain('toStartOfHour(toDateTime(ts)) AS bucket')
    expect(sql).toContain(`GROUP BY org_id, site_id, bucket, ${ROLLUP_DIMENSIONS.join(', ')}`)
    for (const id of ['anon_id', 'session_id', 'user_pid']) expect(sql).toMatch(new RegExp(`uniqStateIf\\(${id}, ${id} != ''\\)`))
    expect(sql).not.toMatch(/event_id|ip_prefix/)
    expect(rollupSelect('rollup_daily')).toContain('toDate(ts) AS bucket')
  })
})
