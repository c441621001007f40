import { describe, expect, it } from 'vitest'
import { isRuntimeTimeZone, isStatsInstant, StatsErrorCode, TimeseriesQuery } from './stats.js'

describe('stats query checks', () => {
  it('a stats instant is a real calendar day, with an hour 00–23 at most, in 2000–2099', () => {
    for (const ok of ['2026-11-01', '2028-02-29', '2026-12-31T23:00', '2026-01-01T00:00:00', '2000-01-01', '2099-12-31']) expect(isStatsInstant(ok), ok).toBe(true)
    for (const bad of ['2026-02-30', '2026-13-01', '2026-11-31', '2026-02-29', '2026-00-10', '2026-11-00', '2026-11-01T24:00', '2026-11-01T13:30', '1999-12-31', '2100-01-01', '2026-1-1', ' 2026-11-01', '2026-11-01\n'])
      expect(isStatsInstant(bad), bad).toBe(false)
  })

  it('a time zone is an IANA name the runtime knows, any case; never an offset or a path', () => {
    for (const ok of ['UTC', 'utc', 'Europe/Berlin', 'america/new_york', 'US/Eastern', 'Etc/GMT+5']) expect(isRuntimeTimeZone(ok), ok).toBe(true)
    for (const bad of ['', 'Nowhere/Land', '+01:00', '-05', 'UTC+1', '../UTC', 'Europe/Berlin ', 'x'.repeat(65)]) expect(isRuntimeTimeZone(bad), bad).toBe(false)
  })

  it('the schema names the parameter and the reason code of a bad date or zone', () => {
    const issue = (q: Record<string, string>) => {
      const r = TimeseriesQuery.safeParse(q)
      const i = r.error?.issues[0]
      return { path: i?.path, code: (i as { params?: { code?: string } } | undefined)?.params?.code }
    }
    expect(issue({ from: '2026-02-30' })).toEqual({ path: ['from'], code: StatsErrorCode.invalidDate })
    expect(issue({ to: 'x' })).toEqual({ path: ['to'], code: StatsErrorCode.invalidDate })
    expect(issue({ tz: 'Nowhere/Land' })).toEqual({ path: ['tz'], code: StatsErrorCode.invalidTimezone })
    expect(TimeseriesQuery.parse({}).tz).toBe('UTC')
  })
})
