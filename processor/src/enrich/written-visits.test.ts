import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { WrittenVisits } from './written-visits.js'

describe('WrittenVisits', () => {
  it('never says no for a visit it was told of, even when its bits are crowded', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 300 }), (keys) => {
        const w = new WrittenVisits(512)
        for (const k of keys) w.add(k, 0)
        return keys.every((k) => w.mightHave(k))
      }),
      { seed: 15, numRuns: 200 },
    )
  })

  it('says maybe for under 1% of unknown visits with 500,000 known in one generation', () => {
    const w = new WrittenVisits()
    for (let i = 0; i < 500_000; i++) w.add(`org-a\u0000web\u0000known-${i}`, 0)
    let maybes = 0
    for (let i = 0; i < 100_000; i++) if (w.mightHave(`org-a\u0000web\u0000other-${i}`)) maybes++
    expect(maybes / 100_000).toBeLessThan(0.01)
  })

  it('covers nothing until covered, then events from exactly the covered time on', () => {
    const w = new WrittenVisits()
    w.add('known', 0)
    expect(w.surelyAbsent('new', 1e15)).toBe(false)
    w.cover(1_000)
    expect(w.surelyAbsent('new', 1_000)).toBe(true)
    expect(w.surelyAbsent('new', 999)).toBe(false)
    expect(w.surelyAbsent('known', 1_000)).toBe(false)
    w.reset()
    expect([w.surelyAbsent('new', 1e15), w.mightHave('known'), w.coveredFrom]).toEqual([false, false, Number.POSITIVE_INFINITY])
  })

  it('drops the oldest generation past `keep`, and moves coverage to the oldest kept one plus the clock margin', () => {
    const w = new WrittenVisits(1 << 16, 100, 2, 5)
    w.cover(0)
    w.add('first', 0)
    w.add('second', 100)
    expect([w.mightHave('first'), w.coveredFrom]).toEqual([true, 0])
    w.add('third', 199)
    expect(w.coveredFrom).toBe(0)
    w.add('fourth', 200)
    // Generation 0 (first) is gone: from 105 on, every stored event was written since generation 100 began.
    expect([w.mightHave('first'), w.mightHave('second'), w.mightHave('fourth'), w.coveredFrom]).toEqual([false, true, true, 105])
    expect(w.surelyAbsent('first', 104)).toBe(false)
    expect(w.surelyAbsent('first', 105)).toBe(true)
  })
})
