import type { StatsDimension } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { bounceQuery } from './bounce.js'
import { cohortQuery } from './cohorts.js'
import { funnelQuery } from './funnel.js'
import { adoptionQuery, type BuiltQuery, breakdownRestQuery, breakdownTopQuery, consentQuery, resolveRange, type StatsTable, timeseriesQuery } from './queries.js'

// Every stats read starts from the key's org and one site: the filter is the first thing in each WHERE,
// the org and site travel as bound parameters. That the engine then keeps two orgs with the same site
// ids apart is proven in test/src/stats-api.test.ts; this pins the text Stryker can mutate.

const NOW = Date.parse('2026-11-28T12:00:00Z')
const scope = { org: 'org-b', site: 'shared-site', range: resolveRange({ from: '2026-10-01', to: '2026-11-01' }, 'UTC', NOW) }
const TABLES: StatsTable[] = ['rollup_dims_daily', 'rollup_dims_hourly', 'events']
const DIMENSIONS: StatsDimension[] = ['url_path', 'referrer_host', 'country', 'browser', 'os', 'device_type', 'name']

/** Every WHERE clause of a statement (subqueries too), squeezed to single spaces. */
function whereClauses(q: BuiltQuery): string[] {
  return q.query
    .replace(/\s+/g, ' ')
    .split(' WHERE ')
    .slice(1)
    .filter((w) => !w.startsWith('level > 0'))
}

function expectScoped(q: BuiltQuery, bots = true): void {
  const wheres = whereClauses(q)
  expect(wheres.length, q.query).toBeGreaterThan(0)
  for (const w of wheres) {
    expect(w, q.query).toMatch(/^org_id = \{org:String\} AND site_id = \{site:String\} AND /)
    if (bots) expect(w, q.query).toMatch(/^org_id = \{org:String\} AND site_id = \{site:String\} AND is_bot = 0 AND /)
  }
  expect(q.query_params).toMatchObject({ org: 'org-b', site: 'shared-site' })
}

describe('every stats query is scoped to the key’s org and one site, bots left out', () => {
  it('timeseries and adoption, from each table', () => {
    for (const table of TABLES) {
      for (const interval of ['day', 'week', 'month'] as const) {
        expectScoped(timeseriesQuery(scope, table, interval))
        expectScoped(adoptionQuery(scope, table, interval, 'export'))
      }
    }
  })

  it('breakdowns, named rows and "other", for every dimension from each table', () => {
    for (const table of TABLES) {
      for (const dimension of DIMENSIONS) {
        const spec = { dimension, limit: 10, k: 5 }
        expectScoped(breakdownTopQuery(scope, table, spec))
        expectScoped(breakdownTopQuery(scope, table, { ...spec, type: 'pageview' }))
        expectScoped(breakdownRestQuery(scope, table, spec, ['x']))
      }
    }
  })

  it('funnels, bounce rates and cohorts over raw events', () => {
    const steps = [
      { type: 'pageview' as const, value: '/a' },
      { type: null, value: 'b' },
    ]
    expectScoped(funnelQuery(scope, steps, 60))
    for (const interval of ['hour', 'day', 'week', 'month'] as const) expectScoped(bounceQuery(scope, interval))
    for (const interval of ['week', 'month'] as const) expectScoped(cohortQuery(scope, 'export', interval))
  })

  it('consent receipts (which have no bot flag)', () => {
    expectScoped(consentQuery(scope), false)
    expect(consentQuery(scope).query_params).toEqual({ org: 'org-b', site: 'shared-site', from: '2026-10-01', to: '2026-11-01', tz: 'UTC' })
  })
})
