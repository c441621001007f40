import { describe, expect, it } from 'vitest'
import { enforceConsent, signals } from './consent-gate.js'
import { wireEvent } from './test-fixtures.js'

const events = [wireEvent(), wireEvent()]
const none = { dnt: undefined, secGpc: undefined }

describe('enforceConsent', () => {
  it('keeps events with an analytics grant and no signal', () => {
    expect(enforceConsent(events, { a: true, p: false }, none)).toEqual({ kept: events, dropped: 0, reason: undefined })
  })

  it('drops everything without an analytics grant', () => {
    expect(enforceConsent(events, { a: false, p: true }, none)).toEqual({ kept: [], dropped: 2, reason: 'consent' })
  })

  it('lets DNT and GPC headers override a grant the client claims', () => {
    expect(enforceConsent(events, { a: true, p: true }, { dnt: '1', secGpc: undefined }).reason).toBe('dnt')
    expect(enforceConsent(events, { a: true, p: true }, { dnt: undefined, secGpc: '1' }).reason).toBe('gpc')
    expect(enforceConsent(events, { a: true, p: true }, { dnt: '1', secGpc: '1' }).reason).toBe('gpc')
  })

  it('ignores signal headers whose value is not 1', () => {
    expect(enforceConsent(events, { a: true, p: true }, { dnt: '0', secGpc: '0' }).kept).toHaveLength(2)
  })
})

describe('signals', () => {
  it.each(['1', ' 1', '1 ', '1, 1', '1,1', '0, 1', ' 0 ,\t1 ', '1, 0'])('reads %j as the signal', (value) => {
    expect(signals(value)).toBe(true)
    expect(enforceConsent(events, { a: true, p: true }, { dnt: value, secGpc: undefined }).reason).toBe('dnt')
    expect(enforceConsent(events, { a: true, p: true }, { dnt: undefined, secGpc: value }).reason).toBe('gpc')
  })

  it.each([undefined, '', '0', '0, 0', '11', '01', '1.0', 'true', 'yes', ',', '1;q=1'])('reads %j as no signal', (value) => {
    expect(signals(value)).toBe(false)
  })
})
