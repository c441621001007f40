import { describe, expect, it } from 'vitest'
import { cohortQuery, cohortTriangle, periodStarts } from './cohorts.js'
import { resolveRange } from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')

describe('cohortTriangle at the boundary', () => {
  const periods = ['2026-11-02', '2026-11-09']

  it('shows a cohort of exactly k accounts and a cell of exactly k; hides k−1', () => {
    const rows = [
      { cohort: '2026-11-02', period: '2026-11-02', accounts: 5 },
      { cohort: '2026-11-02', period: '2026-11-09', accounts: 5 },
    ]
    expect(cohortTriangle(rows, periods, 5)).toEqual([{ cohort: '2026-11-02', hidden: false, accounts: 5, retained: [{ t: '2026-11-09', offset: 1, accounts: 5 }] }])
    expect(cohortTriangle(rows, periods, 6)).toEqual([{ cohort: '2026-11-02', hidden: true, accounts: null, retained: [{ t: '2026-11-09', offset: 1, accounts: null }] }])
  })

  it('hides a cohort whose own period has no row', () => {
    expect(cohortTriangle([{ cohort: '2026-11-02', period: '2026-11-09', accounts: 9 }], periods, 5)).toEqual([
      { cohort: '2026-11-02', hidden: true, accounts: null, retained: [{ t: '2026-11-09', offset: 1, accounts: null }] },
    ])
  })
})

describe('periodStarts', () => {
  it('starts a week on its Monday, also when the range starts on a Sunday or a Monday', () => {
    expect(periodStarts({ from: '2026-11-08', to: '2026-11-10' }, 'week')).toEqual(['2026-11-02', '2026-11-09'])
    expect(periodStarts({ from: '2026-11-09T05:00', to: '2026-11-10' }, 'week')).toEqual(['2026-11-09'])
    // Weeks start at midnight whatever the hour `from` names: the Monday 00:00 before a 01:00 `to` is in range.
    expect(periodStarts({ from: '2026-11-09T05:00', to: '2026-11-16T01:00' }, 'week')).toEqual(['2026-11-09', '2026-11-16'])
  })

  it('lists the first of the month the range starts in, on the first itself', () => {
    expect(periodStarts({ from: '2026-03-01', to: '2026-03-02' }, 'month')).toEqual(['2026-03-01'])
  })
})

describe('cohortQuery', () => {
  it('reads the feature’s uses in the range, one row per cohort and period', () => {
    const scope = { org: 'org-a', site: 'web', range: resolveRange({ from: '2026-10-01', to: '2026-11-01' }, 'UTC', NOW) }
    const q = cohortQuery(scope, 'export', 'week', { maxExecutionSeconds: 4, maxResultRows: 7 })
    const sql = q.query.replace(/\s+/g, ' ')
    expect(sql).toContain('SELECT toString(cohort) AS cohort, toString(p) AS period, count() AS accounts')
    expect(sql).toContain('ts >= parseDateTimeBestEffort({from:String}, {tz:String}) AND ts < parseDateTimeBestEffort({to:String}, {tz:String})')
    expect(sql).toContain('GROUP BY user_pid ) ARRAY JOIN periods AS p GROUP BY cohort, period ORDER BY cohort, period LIMIT {limit:UInt32} SETTINGS max_execution_time = 4')
    expect(q.query_params).toEqual({ org: 'org-a', site: 'web', from: '2026-10-01', to: '2026-11-01', tz: 'UTC', feature: 'export', limit: 7 })
  })
})
