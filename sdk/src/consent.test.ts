import { CONSENT_MAX_AGE_MONTHS } from '@atspark/schemas'
import { describe, expect, test, vi } from 'vitest'
import { setCookie, setNavigator } from './test-support.js'

async function loadConsent(mode?: string, revision?: string) {
  vi.resetModules()
  const consent = await import('./consent.js')
  consent.configure(mode, revision)
  return consent
}

const cookieValue = () => document.cookie.match(/(?:^|; )atspark_consent=([^;]*)/)?.[1]

describe('site mode', () => {
  test('opt-in: analytics waits for a choice, and nothing is granted by default', async () => {
    const consent = await loadConsent('opt-in')
    expect(consent.get()).toMatchObject({ analytics: false, preferences: false, mode: 'opt-in', receipt: undefined })
    expect(consent.gate()).toBe(consent.Gate.wait)
  })

  test('opt-out: analytics is on until refused', async () => {
    const consent = await loadConsent('opt-out')
    expect(consent.get()).toMatchObject({ analytics: true, mode: 'opt-out' })
    expect(consent.gate()).toBe(consent.Gate.grant)
    consent.set({ analytics: false })
    expect(consent.gate()).toBe(consent.Gate.deny)
  })

  test('an unknown mode is treated as the stricter opt-in', async () => {
    const consent = await loadConsent('bogus')
    expect(consent.get().mode).toBe('opt-in')
  })

  test('a refusal in opt-in denies (drop), it does not wait', async () => {
    const consent = await loadConsent('opt-in')
    consent.set({ analytics: false })
    expect(consent.gate()).toBe(consent.Gate.deny)
  })
})

describe('DNT and GPC', () => {
  test.each([
    ['doNotTrack', '1', 'dnt'],
    ['globalPrivacyControl', true, 'gpc'],
  ] as const)('%s denies analytics in opt-out mode and consent.set cannot override it', async (name, value, signal) => {
    setNavigator(name, value)
    const consent = await loadConsent('opt-out')
    expect(consent.get()).toMatchObject({ analytics: false, signal })
    expect(consent.gate()).toBe(consent.Gate.deny)
    expect(consent.set({ analytics: true })).toMatchObject({ analytics: false, signal })
    expect(consent.gate()).toBe(consent.Gate.deny)
  })

  test('only the exact signal values count', async () => {
    setNavigator('doNotTrack', '0')
    setNavigator('globalPrivacyControl', 'true')
    const consent = await loadConsent('opt-out')
    expect(consent.get()).toMatchObject({ analytics: true, signal: undefined })
  })

  test('preferences are not affected by DNT/GPC', async () => {
    setNavigator('globalPrivacyControl', true)
    const consent = await loadConsent('opt-in')
    expect(consent.set({ preferences: true })).toMatchObject({ analytics: false, preferences: true })
  })
})

describe('the atspark_consent cookie', () => {
  test('is versioned and holds the choice, a receipt id, the policy revision and an expiry within 13 months', async () => {
    const consent = await loadConsent('opt-in', 'rev 2026|01')
    const now = Date.now()
    const state = consent.set({ analytics: true })
    const [version, a, p, receipt, revision, expiry] = cookieValue()!.split('|')
    expect(version).toBe('1')
    expect([a, p]).toEqual(['1', '0'])
    expect(receipt).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(state.receipt).toBe(receipt)
    expect(decodeURIComponent(revision!)).toBe('rev 2026|01')
    const limit = new Date(now)
    limit.setMonth(limit.getMonth() + CONSENT_MAX_AGE_MONTHS)
    expect(Number(expiry)).toBeGreaterThan(now)
    expect(Number(expiry)).toBeLessThanOrEqual(limit.getTime())
  })

  test('sets max-age within 13 calendar months from any start date, path=/ and SameSite', async () => {
    const consent = await loadConsent('opt-in')
    const writes: string[] = []
    vi.spyOn(document, 'cookie', 'set').mockImplementation((value) => void writes.push(value))
    consent.set({ analytics: true })
    expect(writes).toHaveLength(1)
    expect(writes[0]).toMatch(/^atspark_consent=1\|1\|0\|[^;]+; max-age=\d+; path=\/; samesite=lax$/)
    const maxAgeMs = Number(writes[0]!.match(/max-age=(\d+)/)![1]) * 1000
    for (let day = 0; day < 366 * 4; day++) {
      const start = new Date(Date.UTC(2025, 0, 1 + day))
      const limit = new Date(start)
      limit.setUTCMonth(limit.getUTCMonth() + CONSENT_MAX_AGE_MONTHS)
      expect(start.getTime() + maxAgeMs, start.toISOString()).toBeLessThanOrEqual(limit.getTime())
    }
  })

  test('is Secure on https pages', async () => {
    ;(window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL('https://app.example/')
    const consent = await loadConsent('opt-in')
    const writes: string[] = []
    vi.spyOn(document, 'cookie', 'set').mockImplementation((value) => void writes.push(value))
    consent.set({ analytics: true })
    expect(writes[0]).toMatch(/; samesite=lax; secure$/)
  })

  test('a new choice gets a new receipt id and keeps the category not mentioned', async () => {
    const consent = await loadConsent('opt-in')
    const first = consent.set({ analytics: true, preferences: true })
    const second = consent.set({ analytics: false })
    expect(second).toMatchObject({ analytics: false, preferences: true })
    expect(second.receipt).not.toBe(first.receipt)
  })

  test('is read back by a fresh page (module)', async () => {
    ;(await loadConsent('opt-in')).set({ analytics: true })
    const consent = await loadConsent('opt-in')
    expect(consent.get().analytics).toBe(true)
    expect(consent.gate()).toBe(consent.Gate.grant)
  })

  test('a choice made under another policy revision does not count', async () => {
    ;(await loadConsent('opt-in', 'r1')).set({ analytics: true })
    const consent = await loadConsent('opt-in', 'r2')
    expect(consent.get()).toMatchObject({ analytics: false, receipt: undefined })
    expect(consent.gate()).toBe(consent.Gate.wait)
  })

  test('an expired, foreign-version or garbled cookie does not count', async () => {
    const consent = await loadConsent('opt-in')
    for (const value of [`1|1|1|id|||${Date.now() - 1}`, `2|1|1|id||${Date.now() + 1e6}`, 'garbage', '1|1|1']) {
      setCookie(`atspark_consent=${value}; path=/`)
      expect(consent.get(), value).toMatchObject({ analytics: false, receipt: undefined })
    }
    setCookie(`atspark_consent=1|1|0|abc||${Date.now() + 1e6}; path=/`)
    expect(consent.get()).toMatchObject({ analytics: true, receipt: 'abc' })
  })
})

describe('analytics identifiers', () => {
  test('every gate that is not a grant deletes the anon and session ids', async () => {
    const consent = await loadConsent('opt-out')
    localStorage.setItem('atspark_anon', 'a1')
    sessionStorage.setItem('atspark_session', 's1')
    expect(consent.gate()).toBe(consent.Gate.grant)
    expect(localStorage.getItem('atspark_anon')).toBe('a1')
    consent.set({ analytics: false })
    expect(localStorage.getItem('atspark_anon')).toBeNull()
    expect(sessionStorage.getItem('atspark_session')).toBeNull()
  })

  test('ids left from an earlier grant are deleted while the choice is pending (opt-in)', async () => {
    const consent = await loadConsent('opt-in')
    localStorage.setItem('atspark_anon', 'stale')
    expect(consent.gate()).toBe(consent.Gate.wait)
    expect(localStorage.getItem('atspark_anon')).toBeNull()
  })
})
