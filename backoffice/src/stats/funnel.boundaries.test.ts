import { describe, expect, it } from 'vitest'
import { funnelQuery, kAnonymousFunnel, stepCondition } from './funnel.js'
import { resolveRange } from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')
const scope = { org: 'org-a', site: 'web', range: resolveRange({ from: '2026-11-01', to: '2026-11-08' }, 'UTC', NOW) }

describe('kAnonymousFunnel at the boundary', () => {
  it('shows a step reached by exactly k visitors and hides one reached by k−1', () => {
    expect(kAnonymousFunnel([{ level: 2, visitors: 5 }], 2, 5)).toEqual([
      { visitors: 5, conversion: null },
      { visitors: 5, conversion: 1 },
    ])
    expect(kAnonymousFunnel([{ level: 1, visitors: 1 }, { level: 2, visitors: 4 }], 2, 5)).toEqual([
      { visitors: 5, conversion: null },
      { visitors: null, conversion: null },
    ])
  })

  it('reads levels in any order and ignores levels past the last step', () => {
    expect(kAnonymousFunnel([{ level: 3, visitors: 6 }, { level: 1, visitors: 4 }], 2, 5).map((s) => s.visitors)).toEqual([10, 6])
  })
})

describe('funnelQuery', () => {
  it('binds a type for typed steps only, reads steps in order, and counts visitors per level reached', () => {
    const steps = [
      { type: 'pageview' as const, value: '/a' },
      { type: 'click' as const, value: 'cta' },
      { type: null, value: 'signup' },
    ]
    const q = funnelQuery(scope, steps, 60)
    expect(q.query_params).toEqual({ org: 'org-a', site: 'web', from: '2026-11-01', to: '2026-11-08', tz: 'UTC', s0: '/a', s1: 'cta', t1: 'click', s2: 'signup', window_ms: 60_000 })
    const conditions = steps.map(stepCondition)
    expect(q.query).toContain(`toUInt64(toUnixTimestamp64Milli(ts)), ${conditions.join(', ')}) AS level`)
    expect(q.query).toContain(`AND (${conditions.join(' OR ')})`)
    expect(q.query).toContain('SELECT level, count() AS visitors')
    expect(q.query).toContain('WHERE level > 0\nGROUP BY level ORDER BY level')
    expect(q.query).toContain('ts >= parseDateTimeBestEffort({from:String}, {tz:String}) AND ts < parseDateTimeBestEffort({to:String}, {tz:String})')
  })
})
