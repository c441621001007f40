import { describe, expect, it } from 'vitest'
import { cohortQuery, cohortTriangle, periodStarts } from './cohorts.js'
import { resolveRange } from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')

describe('periodStarts', () => {
  it('lists every Monday or first of the month the range touches, to exclusive', () => {
    expect(periodStarts({ from: '2026-11-04', to: '2026-11-23' }, 'week')).toEqual(['2026-11-02', '2026-11-09', '2026-11-16'])
    expect(periodStarts({ from: '2026-11-04', to: '2026-11-23T01:00' }, 'week')).toEqual(['2026-11-02', '2026-11-09', '2026-11-16', '2026-11-23'])
    expect(periodStarts({ from: '2026-01-31', to: '2026-04-01' }, 'month')).toEqual(['2026-01-01', '2026-02-01', '2026-03-01'])
    expect(periodStarts({ from: '2026-12-15', to: '2027-01-02' }, 'month')).toEqual(['2026-12-01', '2027-01-01'])
  })
})

describe('cohortQuery', () => {
  it('groups accounts by their first period of use, the feature a parameter', () => {
    const scope = { org: 'org-a', site: 'web', range: resolveRange({ from: '2026-10-01', to: '2026-11-01' }, 'UTC', NOW) }
    const q = cohortQuery(scope, "x' OR 1=1", 'month')
    expect(q.query).toContain('toStartOfMonth(toDate(ts)) AS period')
    expect(q.query).toContain("type = 'feature' AND name = {feature:String}")
    expect(q.query).toContain("is_bot = 0 AND user_pid != ''")
    expect(q.query).toContain('min(period) AS cohort, groupUniqArray(period) AS periods')
    expect(q.query).not.toContain('OR 1=1')
    expect(q.query).toMatch(/SETTINGS max_execution_time = \d+/)
    expect(q.query_params).toMatchObject({ org: 'org-a', feature: "x' OR 1=1" })
    expect(cohortQuery(scope, 'x', 'week').query).toContain('toMonday(toDate(ts)) AS period')
    expect(() => cohortQuery(scope, 'x', 'day' as never)).toThrow(/not a cohort interval/)
  })
})

describe('cohortTriangle', () => {
  const periods = ['2026-11-02', '2026-11-09', '2026-11-16', '2026-11-23']
  const rows = [
    { cohort: '2026-11-02', period: '2026-11-02', accounts: 12 },
    { cohort: '2026-11-02', period: '2026-11-09', accounts: 7 },
    { cohort: '2026-11-02', period: '2026-11-23', accounts: 4 },
    { cohort: '2026-11-16', period: '2026-11-16', accounts: 5 },
    { cohort: '2026-11-16', period: '2026-11-23', accounts: 5 },
    { cohort: '2026-11-09', period: '2026-11-09', accounts: 4 },
    { cohort: '2026-11-09', period: '2026-11-16', accounts: 4 },
  ]

  it('gives each cohort one cell per later period; cells under k (0 included) are null', () => {
    expect(cohortTriangle(rows, periods, 5)).toEqual([
      {
        cohort: '2026-11-02',
        hidden: false,
        accounts: 12,
        retained: [
          { t: '2026-11-09', offset: 1, accounts: 7 },
          { t: '2026-11-16', offset: 2, accounts: null },
          { t: '2026-11-23', offset: 3, accounts: null },
        ],
      },
      {
        cohort: '2026-11-09',
        hidden: true,
        accounts: null,
        retained: [
          { t: '2026-11-16', offset: 1, accounts: null },
          { t: '2026-11-23', offset: 2, accounts: null },
        ],
      },
      { cohort: '2026-11-16', hidden: false, accounts: 5, retained: [{ t: '2026-11-23', offset: 1, accounts: 5 }] },
    ])
  })

  it('never shows a number under k anywhere', () => {
    for (const k of [2, 5, 8, 13]) {
      const numbers = cohortTriangle(rows, periods, k).flatMap((c) => [c.accounts, ...c.retained.map((r) => r.accounts)])
      for (const n of numbers) if (n !== null) expect(n).toBeGreaterThanOrEqual(k)
    }
  })
})
