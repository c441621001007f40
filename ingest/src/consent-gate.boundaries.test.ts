import { describe, expect, it } from 'vitest'
import { enforceConsent } from './consent-gate.js'
import { wireEvent } from './test-fixtures.js'

const events = [wireEvent(), wireEvent(), wireEvent()]
const none = { dnt: undefined, secGpc: undefined }

describe('enforceConsent: the signal the SDK reports', () => {
  it('drops a batch whose consent says the browser sent GPC or DNT, whatever grant it claims and without any header', () => {
    expect(enforceConsent(events, { a: true, p: true, b: 'gpc' }, none)).toEqual({ kept: [], dropped: 3, reason: 'gpc' })
    expect(enforceConsent(events, { a: true, p: true, b: 'dnt' }, none)).toEqual({ kept: [], dropped: 3, reason: 'dnt' })
  })

  it('names GPC first, whether GPC comes from the SDK or the header and DNT from the other', () => {
    expect(enforceConsent(events, { a: true, p: true, b: 'gpc' }, { dnt: '1', secGpc: undefined }).reason).toBe('gpc')
    expect(enforceConsent(events, { a: true, p: true, b: 'dnt' }, { dnt: undefined, secGpc: '1' }).reason).toBe('gpc')
  })

  it('names the signal before a missing grant', () => {
    expect(enforceConsent(events, { a: false, p: false, b: 'dnt' }, none).reason).toBe('dnt')
    expect(enforceConsent(events, { a: false, p: false }, { dnt: '1', secGpc: undefined }).reason).toBe('dnt')
  })
})
