import { REALTIME_MINUTES } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { minuteLabel, type RealtimeRow, realtimeAnswer, realtimeQuery, realtimeWindow } from './realtime.js'

const NOW = Date.parse('2026-12-08T00:10:42.500Z')
const MIN = 60_000
const minuteOf = (iso: string) => Date.parse(iso) / MIN
const LIMITS = { maxExecutionSeconds: 5, maxResultRows: 1000 }

describe('realtime window', () => {
  it('30 one-minute buckets ending with the current minute; visitors over the last five minutes', () => {
    const w = realtimeWindow(NOW)
    expect(new Date(w.from).toISOString()).toBe('2026-12-07T23:41:00.000Z')
    expect(new Date(w.to).toISOString()).toBe('2026-12-08T00:11:00.000Z')
    expect(new Date(w.recent).toISOString()).toBe('2026-12-08T00:05:42.500Z')
  })

  it('the query bounds the key day (two days across midnight) and ts, and never counts bots', () => {
    const q = realtimeQuery('org-a', 'web', NOW, LIMITS)
    expect(q.query).toContain('toDate(ts) >= toDate({day_from:String}) AND toDate(ts) <= toDate({day_to:String})')
    expect(q.query).toContain("ts >= toDateTime64({from:String}, 3, 'UTC') AND ts < toDateTime64({to:String}, 3, 'UTC')")
    expect(q.query.match(/is_bot = 0/g)).toHaveLength(2)
    expect(q.query_params).toMatchObject({
      org: 'org-a',
      site: 'web',
      day_from: '2026-12-07',
      day_to: '2026-12-08',
      from: '2026-12-07 23:41:00.000',
      to: '2026-12-08 00:11:00.000',
      day_from_recent: '2026-12-08',
      from_recent: '2026-12-08 00:05:42.500',
    })
  })
})

describe('realtime k rules', () => {
  const rows: RealtimeRow[] = [
    { part: 'minute', m: minuteOf('2026-12-08T00:10:00Z'), events: 9, visitors: 5 },
    { part: 'minute', m: minuteOf('2026-12-08T00:09:00Z'), events: 7, visitors: 4 },
    { part: 'minute', m: minuteOf('2026-12-07T23:41:00Z'), events: 3, visitors: 0 },
    // Outside the window: ignored.
    { part: 'minute', m: minuteOf('2026-12-07T23:40:00Z'), events: 50, visitors: 50 },
    { part: 'recent', m: 0, events: 16, visitors: 6 },
  ]

  it('every minute present, oldest first; k visitors shown, k−1 hidden, an empty minute 0', () => {
    const a = realtimeAnswer(rows, NOW, 5)
    expect(a.minutes).toHaveLength(REALTIME_MINUTES)
    expect(a.minutes[0]).toEqual({ t: '2026-12-07T23:41', events: null, visitors: null })
    expect(a.minutes[1]).toEqual({ t: '2026-12-07T23:42', events: 0, visitors: 0 })
    expect(a.minutes[28]).toEqual({ t: '2026-12-08T00:09', events: null, visitors: null })
    expect(a.minutes[29]).toEqual({ t: '2026-12-08T00:10', events: 9, visitors: 5 })
    expect(a.minutes.map((m) => m.t)).toEqual(Array.from({ length: 30 }, (_, i) => minuteLabel(Date.parse('2026-12-07T23:41:00Z') + i * MIN)))
    expect(a).toMatchObject({ now: '2026-12-08T00:10:42.500Z', visitors_5m: 6, hidden: false })
  })

  it('the five-minute visitors: k−1 hidden, k shown, none is 0', () => {
    const with5m = (visitors: number) => realtimeAnswer([{ part: 'recent', m: 0, events: visitors * 2, visitors }], NOW, 5)
    expect(with5m(4)).toMatchObject({ visitors_5m: null, hidden: true })
    expect(with5m(5)).toMatchObject({ visitors_5m: 5, hidden: false })
    expect(realtimeAnswer([], NOW, 5)).toMatchObject({ visitors_5m: 0, hidden: false })
    expect(realtimeAnswer([], NOW, 5).minutes.every((m) => m.events === 0 && m.visitors === 0)).toBe(true)
  })
})
