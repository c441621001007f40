import { FunnelQuery } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { funnelQuery, kAnonymousFunnel, stepCondition } from './funnel.js'
import { resolveRange } from './queries.js'

const NOW = Date.parse('2026-11-28T12:00:00Z')

describe('funnel steps', () => {
  it('parses type:value steps and bare names; an unknown prefix is part of a bare name', () => {
    const q = FunnelQuery.parse({ steps: 'pageview:/pricing, click:cta,signup,utm:x,feature:a:b' })
    expect(q.steps).toEqual([
      { type: 'pageview', value: '/pricing' },
      { type: 'click', value: 'cta' },
      { type: null, value: 'signup' },
      { type: null, value: 'utm:x' },
      { type: 'feature', value: 'a:b' },
    ])
    expect(q.window).toBe(1800)
  })

  it('matches a pageview by path, other types by name, bare names whatever the type', () => {
    expect(stepCondition({ type: 'pageview', value: '/x' }, 0)).toBe("(type = 'pageview' AND url_path = {s0:String})")
    expect(stepCondition({ type: 'click', value: 'cta' }, 1)).toBe('(type = {t1:String} AND name = {s1:String})')
    expect(stepCondition({ type: null, value: 'signup' }, 2)).toBe('name = {s2:String}')
  })

  it('refuses fewer than 2 or more than 8 steps, empty values and windows over a day', () => {
    expect(FunnelQuery.safeParse({ steps: 'a' }).success).toBe(false)
    expect(FunnelQuery.safeParse({ steps: 'a,b,c,d,e,f,g,h,i' }).success).toBe(false)
    expect(FunnelQuery.safeParse({ steps: 'a,b,c,d,e,f,g,h' }).success).toBe(true)
    expect(FunnelQuery.safeParse({ steps: 'a,,b' }).success).toBe(false)
    expect(FunnelQuery.safeParse({ steps: 'a,click:' }).success).toBe(false)
    expect(FunnelQuery.safeParse({ steps: 'a,b', window: '86401' }).success).toBe(false)
    expect(FunnelQuery.safeParse({ steps: 'a,b', window: '0' }).success).toBe(false)
    expect(FunnelQuery.parse({ steps: 'a,b', window: '86400' }).window).toBe(86_400)
  })
})

describe('funnelQuery', () => {
  it('runs windowFunnel per visitor in milliseconds, with every value a parameter', () => {
    const scope = { org: 'org-a', site: 'web', range: resolveRange({ from: '2026-11-01', to: '2026-11-08' }, 'UTC', NOW) }
    const steps = [
      { type: 'pageview' as const, value: "/x' OR 1=1" },
      { type: 'click' as const, value: 'cta' },
    ]
    const q = funnelQuery(scope, steps, 600)
    expect(q.query).toContain('windowFunnel({window_ms:UInt64})(toUInt64(toUnixTimestamp64Milli(ts)), ')
    expect(q.query).toContain("FROM atspark.events")
    expect(q.query).toContain("is_bot = 0 AND anon_id != ''")
    expect(q.query).toContain('GROUP BY anon_id')
    expect(q.query).not.toContain('OR 1=1')
    expect(q.query).toMatch(/SETTINGS max_execution_time = \d+/)
    expect(q.query_params).toMatchObject({ org: 'org-a', site: 'web', s0: "/x' OR 1=1", s1: 'cta', t1: 'click', window_ms: 600_000 })
  })
})

describe('kAnonymousFunnel', () => {
  it('counts a visitor at every step up to the level reached, with conversions from the previous step', () => {
    const levels = [
      { level: 1, visitors: 10 },
      { level: 2, visitors: 5 },
      { level: 3, visitors: 15 },
    ]
    expect(kAnonymousFunnel(levels, 3, 5)).toEqual([
      { visitors: 30, conversion: null },
      { visitors: 20, conversion: 20 / 30 },
      { visitors: 15, conversion: 15 / 20 },
    ])
  })

  it('hides a step under k and every later step, even a later one at k', () => {
    expect(kAnonymousFunnel([{ level: 1, visitors: 4 }], 2, 5)).toEqual([
      { visitors: null, conversion: null },
      { visitors: null, conversion: null },
    ])
    // Step 2 is reached by 6; step 3 by 6: still shown. Then a step 4 of 0 hides step 4 and 5.
    expect(kAnonymousFunnel([{ level: 1, visitors: 10 }, { level: 3, visitors: 6 }], 5, 5)).toEqual([
      { visitors: 16, conversion: null },
      { visitors: 6, conversion: 6 / 16 },
      { visitors: 6, conversion: 1 },
      { visitors: null, conversion: null },
      { visitors: null, conversion: null },
    ])
    expect(kAnonymousFunnel([{ level: 1, visitors: 10 }, { level: 2, visitors: 3 }, { level: 3, visitors: 2 }], 3, 5).map((s) => s.visitors)).toEqual([15, 5, null])
    expect(kAnonymousFunnel([{ level: 1, visitors: 10 }, { level: 2, visitors: 3 }], 3, 5).map((s) => s.visitors)).toEqual([13, null, null])
  })
})
