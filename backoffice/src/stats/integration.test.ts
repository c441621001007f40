import { describe, expect, it } from 'vitest'
import { type IntegrationRow, integrationAnswer, integrationQuery, toSecondIso } from './integration.js'

const K = 5
const name = (bot: boolean, type: string, n: string, events: number, visitors: number): IntegrationRow => ({ part: 'name', bot, type, name: n, events, visitors, last: '' })
const total = (bot: boolean, events: number, visitors: number, last: string): IntegrationRow => ({ part: 'total', bot, type: '', name: '', events, visitors, last })
const hiddenRest = (events: number, visitors: number): IntegrationRow => ({ part: 'hidden', bot: false, type: '', name: '', events, visitors, last: '' })

describe('integration view', () => {
  it('reads by receipt time within the window, the key day bounded, k as a parameter', () => {
    const q = integrationQuery('org-a', 'web', Date.parse('2026-12-08T00:10:00Z'), K, { maxExecutionSeconds: 5, maxResultRows: 1000 })
    expect(q.query).toContain('toDate(ts) >= toDate({day_from:String})')
    expect(q.query).toContain("received_at > toDateTime64({from:String}, 3, 'UTC') AND received_at <= toDateTime64({to:String}, 3, 'UTC')")
    expect(q.query_params).toMatchObject({ day_from: '2026-12-05', from: '2026-12-07 23:40:00.000', to: '2026-12-08 00:10:00.000', k: K, max_names: 100 })
  })

  it('bots exactly and apart; humans under k hidden with every name null; last event to the second', () => {
    const a = integrationAnswer(
      [name(true, 'pageview', '', 3, 1), name(true, 'click', 'cta', 1, 1), total(true, 4, 1, '2026-12-08 00:09:59.999'), name(false, 'pageview', '', 2, 1), total(false, 2, 1, '2026-12-08 00:09:01.000'), hiddenRest(2, 1)],
      K,
    )
    expect(a).toEqual({
      window_minutes: 30,
      last_event_at: '2026-12-08T00:09:59Z',
      humans: { events: null, hidden: true, by_name: [{ type: 'pageview', name: '', events: null }] },
      bots: { events: 4, by_name: [{ type: 'pageview', name: '', events: 3 }, { type: 'click', name: 'cta', events: 1 }] },
    })
  })

  it('k visitors show a name, k−1 hide it; the smallest shown name is hidden too when the hidden ones could be derived', () => {
    const rows = [name(false, 'pageview', '', 40, 12), name(false, 'click', 'signup', 9, 5), name(false, 'click', 'rare', 4, 4), total(false, 53, 12, '2026-12-08 00:00:00.000')]
    // rare (4 visitors) alone is what total − shown leaves: signup is withheld with it.
    const withRest = integrationAnswer([...rows, hiddenRest(4, 4)], K)
    expect(withRest.humans).toEqual({
      events: 53,
      hidden: false,
      by_name: [
        { type: 'pageview', name: '', events: 40 },
        { type: 'click', name: 'rare', events: null },
        { type: 'click', name: 'signup', events: null },
      ],
    })
    // When the hidden names together have k visitors, the remainder shows nothing under k.
    const enough = integrationAnswer([...rows, hiddenRest(4, 5)], K)
    expect(enough.humans.by_name).toEqual([
      { type: 'pageview', name: '', events: 40 },
      { type: 'click', name: 'signup', events: 9 },
      { type: 'click', name: 'rare', events: null },
    ])
    expect(integrationAnswer([name(false, 'click', 'x', 5, 5), total(false, 5, 5, '2026-12-08 00:00:00.000')], K).humans).toEqual({
      events: 5,
      hidden: false,
      by_name: [{ type: 'click', name: 'x', events: 5 }],
    })
    expect(integrationAnswer([name(false, 'click', 'x', 4, 4), total(false, 4, 4, '2026-12-08 00:00:00.000'), hiddenRest(4, 4)], K).humans.events).toBeNull()
  })

  it('nothing received: zeros and no last event', () => {
    expect(integrationAnswer([], K)).toEqual({ window_minutes: 30, last_event_at: null, humans: { events: 0, hidden: false, by_name: [] }, bots: { events: 0, by_name: [] } })
    expect(toSecondIso('2026-01-02 03:04:05.678')).toBe('2026-01-02T03:04:05Z')
  })
})
