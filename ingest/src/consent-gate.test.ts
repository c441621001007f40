import { describe, expect, it } from 'vitest'
import { enforceConsent } from './consent-gate.js'
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
