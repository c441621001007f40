import { describe, expect, it } from 'vitest'
import { formatChange, formatDuration, hiddenText, setK } from './format.js'

describe('how the headline cards read', () => {
  it('a relative change in percent with its arrow; a rate’s change in points', () => {
    expect(formatChange(1.25, false)).toBe('▲ 125%')
    expect(formatChange(-0.0743, false)).toBe('▼ 7.4%')
    expect(formatChange(0, false)).toBe('■ 0%')
    expect(formatChange(0.016, true)).toBe('▲ 1.6 pp')
    expect(formatChange(-0.0078, true)).toBe('▼ 0.8 pp')
  })

  it('durations in seconds as 42s, 1m 05s, 2h 03m; hidden as "< k" with the answer’s k', () => {
    expect(formatDuration(42.4)).toBe('42s')
    expect(formatDuration(65)).toBe('1m 05s')
    expect(formatDuration(7380)).toBe('2h 03m')
    setK(7)
    expect(formatDuration(null)).toBe('< 7')
    expect(hiddenText()).toBe('< 7')
    setK(5)
  })
})
