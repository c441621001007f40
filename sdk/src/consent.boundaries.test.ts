import { describe, expect, test, vi } from 'vitest'
import { RECEIPT_URL, stubNetwork } from './test-support.js'

/** A fresh consent module (a new page), configured as init() would. */
async function loadConsent(mode?: string) {
  vi.resetModules()
  const consent = await import('./consent.js')
  consent.configure(mode, '1', 'site-key', RECEIPT_URL)
  return consent
}

describe('set() leaves what it does not change', () => {
  test('a new analytics choice keeps the stored preferences while preferences stay granted', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    consent.set({ preferences: true })
    expect(consent.prefs.set('theme', 'dark')).toBe(true)
    consent.set({ analytics: true })
    consent.set({ analytics: false })
    expect(consent.prefs.get('theme')).toBe('dark')
  })

  test('set() without a choice (page code calling it bare) keeps the stored choice', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    consent.set({ analytics: true, preferences: true })
    const state = consent.set(undefined as never)
    expect(state).toMatchObject({ analytics: true, preferences: true, decided: true })
  })
})
