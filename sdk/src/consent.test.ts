import { CONSENT_MAX_AGE_MONTHS } from '@atspark/schemas'
import { describe, expect, test, vi } from 'vitest'
import { consentCookie, RECEIPT_URL, setCookie, setNavigator, setUrl, stubNetwork } from './test-support.js'

/** A fresh consent module (a new page), configured as init() would. */
async function loadConsent(mode?: string, revision?: string) {
  vi.resetModules()
  const consent = await import('./consent.js')
  consent.configure(mode, revision, 'site-key', RECEIPT_URL)
  return consent
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('the state machine', () => {
  test('opt-in: nothing granted and nothing decided until a choice; events wait', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    expect(consent.get()).toEqual({ essential: true, preferences: false, analytics: false, decided: false, blockedBy: undefined, receipt: undefined })
    expect(consent.gate()).toBe(consent.Gate.wait)
  })

  test('opt-out: analytics and preferences on until refused; a refusal denies', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-out')
    expect(consent.get()).toMatchObject({ analytics: true, preferences: true, decided: false })
    expect(consent.gate()).toBe(consent.Gate.grant)
    expect(consent.set({ analytics: false })).toMatchObject({ analytics: false, preferences: true, decided: true })
    expect(consent.gate()).toBe(consent.Gate.deny)
  })

  test('an unknown mode is treated as the stricter opt-in', async () => {
    stubNetwork()
    const consent = await loadConsent('bogus')
    expect(consent.get().analytics).toBe(false)
    expect(consent.gate()).toBe(consent.Gate.wait)
  })

  test('opt-in: a refusal denies (drop), a grant grants, a later refusal denies again', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    consent.set({ analytics: false })
    expect(consent.gate()).toBe(consent.Gate.deny)
    consent.set({ analytics: true })
    expect(consent.gate()).toBe(consent.Gate.grant)
    consent.set({ analytics: false })
    expect(consent.gate()).toBe(consent.Gate.deny)
  })

  test('only `true` grants; a category not mentioned keeps the stored choice', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    expect(consent.set({ analytics: 'yes' as never, preferences: 1 as never })).toMatchObject({ analytics: false, preferences: false, decided: true })
    const first = consent.set({ analytics: true, preferences: true })
    const second = consent.set({ analytics: false })
    expect(second).toMatchObject({ analytics: false, preferences: true })
    expect(second.receipt).not.toBe(first.receipt)
    expect(consent.set({ preferences: false })).toMatchObject({ analytics: false, preferences: false })
  })

  test('set() before init changes nothing and sends nothing', async () => {
    const net = stubNetwork()
    vi.resetModules()
    const consent = await import('./consent.js')
    expect(consent.set({ analytics: true })).toMatchObject({ analytics: false, decided: false })
    expect(consentCookie()).toBeUndefined()
    expect(net.fetch).not.toHaveBeenCalled()
  })

  test('a grant made under another policy revision is not decided: opt-in asks (waits) again, opt-out falls back to its default', async () => {
    stubNetwork()
    ;(await loadConsent('opt-in', '2025-06')).set({ analytics: true, preferences: true })
    expect((await loadConsent('opt-in', '2025-06')).get()).toMatchObject({ analytics: true, decided: true })
    const consent = await loadConsent('opt-in', '2026-01')
    expect(consent.get()).toMatchObject({ analytics: false, preferences: false, decided: false, receipt: undefined })
    expect(consent.gate()).toBe(consent.Gate.wait)
    expect((await loadConsent('opt-out', '2026-01')).get()).toMatchObject({ analytics: true, decided: false, receipt: undefined })
  })

  test.each(['opt-out', 'opt-in'])('%s: a refusal outlives every later policy revision, with its receipt, until the visitor changes it', async (mode) => {
    const net = stubNetwork()
    const refused = (await loadConsent(mode, '1')).set({ analytics: false, preferences: true }, 'banner')
    for (const revision of ['2', '3', '']) {
      const consent = await loadConsent(mode, revision)
      localStorage.setItem('atspark_anon', 'left-over')
      expect(consent.get(), revision).toEqual({ essential: true, analytics: false, preferences: true, decided: true, blockedBy: undefined, receipt: refused.receipt })
      expect(consent.gate()).toBe(consent.Gate.deny)
      expect(localStorage.getItem('atspark_anon')).toBeNull()
    }
    // Nothing was re-asked or re-receipted; the cookie still names the revision the refusal was made under.
    expect(net.receipts()).toHaveLength(1)
    expect(consentCookie()!.split('|').slice(1, 5)).toEqual(['0', '1', refused.receipt, '1'])
    const consent = await loadConsent(mode, '4')
    expect(consent.set({ analytics: true })).toMatchObject({ analytics: true, preferences: true, decided: true })
    expect(consentCookie()!.split('|')[4]).toBe('4')
  })

  test('preferences alone never change analytics: unchosen stays unchosen, a grant stays a grant, a refusal (of any revision) stays a refusal', async () => {
    stubNetwork()
    const optIn = await loadConsent('opt-in', '1')
    expect(optIn.set({ preferences: true })).toMatchObject({ analytics: false, preferences: true, decided: false })
    // Still waiting for a choice: events held in memory are not dropped as a refusal would drop them.
    expect(optIn.gate()).toBe(optIn.Gate.wait)
    expect(optIn.set({ preferences: false })).toMatchObject({ decided: false })
    const optOut = await loadConsent('opt-out', '1')
    expect(optOut.set({ preferences: false })).toMatchObject({ analytics: true, preferences: false, decided: false })
    expect(optOut.set({ analytics: true })).toMatchObject({ analytics: true, decided: true })
    expect(optOut.set({ preferences: true })).toMatchObject({ analytics: true, preferences: true, decided: true })
    expect(optOut.set({ analytics: false })).toMatchObject({ analytics: false, decided: true })
    expect(optOut.set({ preferences: false })).toMatchObject({ analytics: false, preferences: false, decided: true })
    const later = await loadConsent('opt-out', '2')
    expect(later.set({ preferences: true })).toMatchObject({ analytics: false, preferences: true, decided: true })
    expect(later.gate()).toBe(later.Gate.deny)
  })
})

describe('DNT and GPC', () => {
  test.each([
    ['doNotTrack', '1', 'dnt'],
    ['globalPrivacyControl', true, 'gpc'],
  ] as const)('%s denies analytics in opt-out mode and consent.set cannot override it', async (name, value, signal) => {
    stubNetwork()
    setNavigator(name, value)
    const consent = await loadConsent('opt-out')
    expect(consent.get()).toMatchObject({ analytics: false, blockedBy: signal })
    expect(consent.gate()).toBe(consent.Gate.deny)
    expect(consent.set({ analytics: true })).toMatchObject({ analytics: false, blockedBy: signal, decided: true })
    expect(consent.gate()).toBe(consent.Gate.deny)
  })

  test('GPC wins when both are on', async () => {
    stubNetwork()
    setNavigator('doNotTrack', '1')
    setNavigator('globalPrivacyControl', true)
    expect((await loadConsent('opt-out')).get().blockedBy).toBe('gpc')
  })

  test('only the exact signal values count', async () => {
    stubNetwork()
    setNavigator('doNotTrack', '0')
    setNavigator('globalPrivacyControl', 'true')
    const consent = await loadConsent('opt-out')
    expect(consent.get()).toMatchObject({ analytics: true, blockedBy: undefined })
  })

  test('preferences are not affected by DNT/GPC', async () => {
    stubNetwork()
    setNavigator('globalPrivacyControl', true)
    const consent = await loadConsent('opt-in')
    expect(consent.set({ preferences: true })).toMatchObject({ analytics: false, preferences: true })
  })
})

describe('the atspark_consent cookie', () => {
  test('is versioned and holds the choice, the receipt id, the policy revision, an expiry within 13 months and the signals', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in', 'rev 2026|01;x')
    const now = Date.now()
    const state = consent.set({ analytics: true })
    const [version, a, p, receipt, revision, expiry, signals, ...rest] = consentCookie()!.split('|')
    // Preferences was not mentioned: it stays unchosen (empty) and the site mode's default applies.
    expect([version, a, p, signals, rest]).toEqual(['1', '1', '', '', []])
    expect(receipt).toMatch(UUID)
    expect(state.receipt).toBe(receipt)
    expect(decodeURIComponent(revision!)).toBe('rev 2026|01;x')
    const limit = new Date(now)
    limit.setMonth(limit.getMonth() + CONSENT_MAX_AGE_MONTHS)
    expect(Number(expiry)).toBeGreaterThan(now)
    expect(Number(expiry)).toBeLessThanOrEqual(limit.getTime())
  })

  test('max-age stays within 13 calendar months from any start date; path=/ and SameSite=Lax', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    const writes: string[] = []
    vi.spyOn(document, 'cookie', 'set').mockImplementation((value) => void writes.push(value))
    consent.set({ analytics: true })
    expect(writes).toHaveLength(1)
    expect(writes[0]).toMatch(/^atspark_consent=1\|1\|\|[^;]+; max-age=\d+; path=\/; samesite=lax$/)
    const maxAgeMs = Number(writes[0]!.match(/max-age=(\d+)/)![1]) * 1000
    expect(maxAgeMs).toBeGreaterThan(360 * 864e5)
    for (let day = 0; day < 366 * 4; day++) {
      const start = new Date(Date.UTC(2025, 0, 1 + day))
      const limit = new Date(start)
      limit.setUTCMonth(limit.getUTCMonth() + CONSENT_MAX_AGE_MONTHS)
      expect(start.getTime() + maxAgeMs, start.toISOString()).toBeLessThanOrEqual(limit.getTime())
    }
  })

  test('is Secure on https pages', async () => {
    stubNetwork()
    setUrl('https://app.example/')
    const consent = await loadConsent('opt-in')
    const writes: string[] = []
    vi.spyOn(document, 'cookie', 'set').mockImplementation((value) => void writes.push(value))
    consent.set({ analytics: true })
    expect(writes[0]).toMatch(/; samesite=lax; secure$/)
  })

  test('is read back by a fresh page', async () => {
    stubNetwork()
    ;(await loadConsent('opt-in')).set({ analytics: true })
    const consent = await loadConsent('opt-in')
    expect(consent.get()).toMatchObject({ analytics: true, decided: true })
    expect(consent.gate()).toBe(consent.Gate.grant)
  })

  test('an expired, foreign-version, receipt-less or garbled cookie does not count', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    for (const value of [`1|1|1|id||${Date.now() - 1}|`, `2|1|1|id||${Date.now() + 1e6}|`, `1|1|1|||${Date.now() + 1e6}|`, 'garbage', '1|1|1']) {
      setCookie(`atspark_consent=${value}; path=/`)
      expect(consent.get(), value).toMatchObject({ analytics: false, decided: false, receipt: undefined })
    }
    setCookie(`atspark_consent=1|1|0|abc||${Date.now() + 1e6}|; path=/`)
    expect(consent.get()).toMatchObject({ analytics: true, decided: true, receipt: 'abc' })
  })

  test('a refusal is renewed on every visit: same choice, receipt and revision, a fresh expiry ≤ 13 months, so an active visitor\'s never lapses', async () => {
    stubNetwork()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.UTC(2026, 0, 31))
    ;(await loadConsent('opt-out', '1')).set({ analytics: false })
    const first = consentCookie()!.split('|')
    // A visit every 300 days for six years: each renews it, under revisions that keep changing.
    for (let visit = 1; visit <= 7; visit++) {
      vi.setSystemTime(Date.UTC(2026, 0, 31) + visit * 300 * 864e5)
      const cookieWrites = vi.spyOn(document, 'cookie', 'set')
      const consent = await loadConsent('opt-out', String(visit % 3))
      const writes = cookieWrites.mock.calls.map(([value]) => String(value))
      vi.restoreAllMocks()
      expect(consent.get(), `visit ${visit}`).toMatchObject({ analytics: false, decided: true, receipt: first[3] })
      const now = consentCookie()!.split('|')
      expect(now.filter((_, i) => i !== 5)).toEqual(first.filter((_, i) => i !== 5))
      expect(Number(now[5])).toBe(Date.now() + 390 * 864e5)
      expect(writes).toHaveLength(1)
      expect(Number(writes[0]!.match(/max-age=(\d+)/)![1])).toBe(390 * 86400)
    }
  })

  test('a grant is not renewed: it lapses within 13 months of being given, and is asked again', async () => {
    stubNetwork()
    vi.useFakeTimers({ toFake: ['Date'] })
    const start = Date.UTC(2026, 0, 31)
    vi.setSystemTime(start)
    ;(await loadConsent('opt-in', '1')).set({ analytics: true })
    const expiry = consentCookie()!.split('|')[5]
    vi.setSystemTime(start + 300 * 864e5)
    expect((await loadConsent('opt-in', '1')).get()).toMatchObject({ analytics: true, decided: true })
    expect(consentCookie()!.split('|')[5]).toBe(expiry)
    vi.setSystemTime(start + 391 * 864e5)
    expect((await loadConsent('opt-in', '1')).get()).toMatchObject({ analytics: false, decided: false })
  })

  test('a refusal left unrenewed past its expiry no longer counts (the visitor was away over 13 months)', async () => {
    stubNetwork()
    setCookie(`atspark_consent=1|0|0|id|1|${Date.now() - 1}|; path=/`)
    expect((await loadConsent('opt-out', '2')).get()).toMatchObject({ analytics: true, decided: false })
  })

  test('blocked cookies: the choice still holds for the page', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-out')
    vi.spyOn(document, 'cookie', 'set').mockImplementation(() => {})
    consent.set({ analytics: false })
    expect(consent.get()).toMatchObject({ analytics: false, decided: true })
  })
})

describe('consent receipts', () => {
  test('every set() posts one receipt to /v1/consent with the cookie receipt id, source and revision, and no analytics identifier', async () => {
    const net = stubNetwork()
    localStorage.setItem('atspark_anon', 'anon-1')
    const consent = await loadConsent('opt-out', 'r9')
    const before = Date.now()
    const granted = consent.set({ analytics: true, preferences: false }, 'banner')
    const refused = consent.set({ analytics: false })
    const odd = consent.set({ analytics: false }, 'gpc' as never)
    const receipts = net.receipts()
    expect(receipts.map((r) => [r.a, r.p, r.src, r.r, r.k])).toEqual([
      [true, false, 'banner', 'r9', 'site-key'],
      [false, false, 'api', 'r9', 'site-key'],
      [false, false, 'api', 'r9', 'site-key'],
    ])
    expect(receipts.map((r) => r.id)).toEqual([granted.receipt, refused.receipt, odd.receipt])
    expect(consentCookie()!.split('|')[3]).toBe(odd.receipt)
    expect(receipts[0]!.ts).toBeGreaterThanOrEqual(before)
    expect(receipts[0]!.sa).toBeGreaterThanOrEqual(receipts[0]!.ts)
    for (const raw of net.rawReceipts()) {
      expect(Object.keys(raw).sort()).toEqual(['a', 'id', 'k', 'p', 'r', 'sa', 'src', 'ts', 'v'])
      expect(typeof raw.a).toBe('boolean')
      expect(JSON.stringify(raw)).not.toContain('anon-1')
    }
    expect(net.fetch.mock.calls.map(([url]) => url)).toEqual([RECEIPT_URL, RECEIPT_URL, RECEIPT_URL])
    expect(net.fetch.mock.calls[0]![1]).toMatchObject({ method: 'POST', keepalive: true, credentials: 'omit' })
  })

  test('are retried on 503 with the same id and a fresh sent_at', async () => {
    vi.useFakeTimers()
    const statuses = [503, 202]
    const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => new Response(null, { status: statuses.shift() ?? 202 }))
    vi.stubGlobal('fetch', fetchMock)
    const consent = await loadConsent('opt-in')
    consent.set({ analytics: true })
    await vi.advanceTimersByTimeAsync(0)
    expect(fetchMock).toHaveBeenCalledOnce()
    await vi.advanceTimersByTimeAsync(1000)
    const [first, second] = fetchMock.mock.calls.map(([, init]) => JSON.parse(String(init.body)))
    expect(fetchMock).toHaveBeenCalledTimes(2)
    expect(second.id).toBe(first.id)
    expect(second.sa).toBeGreaterThan(first.sa)
  })

  test.each([
    ['doNotTrack', '1', 'dnt'],
    ['globalPrivacyControl', true, 'gpc'],
  ] as const)('%s: one receipt (src %s, a: false) per browser and policy revision, not on every page load', async (name, value, signal) => {
    const net = stubNetwork()
    setNavigator(name, value)
    const first = await loadConsent('opt-out', 'r1')
    expect(net.receipts()).toMatchObject([{ src: signal, a: false, p: true, r: 'r1' }])
    expect(first.get()).toMatchObject({ decided: false, blockedBy: signal, receipt: net.receipts()[0]!.id })
    expect(consentCookie()!.split('|')[6]).toBe(signal)
    await loadConsent('opt-out', 'r1')
    await loadConsent('opt-out', 'r1')
    expect(net.receipts()).toHaveLength(1)
    await loadConsent('opt-out', 'r2')
    expect(net.receipts().map((r) => [r.src, r.r])).toEqual([
      [signal, 'r1'],
      [signal, 'r2'],
    ])
  })

  test('a refusal carried into a new revision gets that revision\'s signal receipt once, and stays a refusal', async () => {
    const net = stubNetwork()
    setNavigator('doNotTrack', '1')
    const first = await loadConsent('opt-out', 'r1')
    const refused = first.set({ analytics: false })
    await loadConsent('opt-out', 'r1')
    const consent = await loadConsent('opt-out', 'r2')
    await loadConsent('opt-out', 'r2')
    expect(net.receipts().map((r) => [r.src, r.r, r.a])).toEqual([
      ['dnt', 'r1', false],
      ['api', 'r1', false],
      ['dnt', 'r2', false],
    ])
    expect(consent.get()).toMatchObject({ analytics: false, decided: true, blockedBy: 'dnt' })
    const [, a, , receipt, revision, , signals] = consentCookie()!.split('|')
    expect([a, revision, signals]).toEqual(['0', 'r2', 'dnt'])
    expect(receipt).not.toBe(refused.receipt)
  })

  test('a signal receipt keeps the stored choice and its expiry; a choice made under the signal is still receipted', async () => {
    const net = stubNetwork()
    ;(await loadConsent('opt-in')).set({ analytics: true, preferences: true })
    const [, , , choiceReceipt, , expiry] = consentCookie()!.split('|')
    setNavigator('globalPrivacyControl', true)
    const consent = await loadConsent('opt-in')
    const [, a, p, receipt, , sameExpiry, signals] = consentCookie()!.split('|')
    expect([a, p, sameExpiry, signals]).toEqual(['1', '1', expiry, 'gpc'])
    expect(receipt).not.toBe(choiceReceipt)
    expect(consent.get()).toMatchObject({ analytics: false, preferences: true, decided: true, blockedBy: 'gpc' })
    expect(net.receipts().map((r) => [r.src, r.a, r.p])).toEqual([
      ['api', true, true],
      ['gpc', false, true],
    ])
    consent.set({ preferences: false }, 'banner')
    expect(net.receipts()[2]).toMatchObject({ src: 'banner', a: false, p: false })
    expect(consentCookie()!.split('|')[6]).toBe('gpc')
    setNavigator('globalPrivacyControl', false)
    setNavigator('doNotTrack', '1')
    await loadConsent('opt-in')
    expect(net.receipts()[3]).toMatchObject({ src: 'dnt' })
    expect(consentCookie()!.split('|')[6]).toBe('gpcdnt')
  })
})

describe('onChange', () => {
  test('listeners get the new state after every set(); unsubscribe stops them; a throwing listener does not stop the others', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    const seen: unknown[] = []
    consent.onChange(() => {
      throw new Error('page bug')
    })
    const off = consent.onChange((state) => seen.push(state))
    const state = consent.set({ analytics: true }, 'banner')
    expect(seen).toEqual([state])
    expect(state).toMatchObject({ essential: true, analytics: true, decided: true })
    off()
    consent.set({ analytics: false })
    expect(seen).toHaveLength(1)
  })
})

describe('preference storage (atspark_prefs)', () => {
  test('nothing is written while preferences is not granted', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    expect(consent.prefs.set('theme', 'dark')).toBe(false)
    expect(localStorage.getItem('atspark_prefs')).toBeNull()
    consent.set({ analytics: true })
    expect(consent.prefs.set('theme', 'dark')).toBe(false)
    expect(localStorage.getItem('atspark_prefs')).toBeNull()
  })

  test('granted: values are stored as JSON and read back; withdrawing preferences deletes the storage', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    consent.set({ preferences: true })
    expect(consent.prefs.set('theme', 'dark')).toBe(true)
    expect(consent.prefs.set('rows', 50)).toBe(true)
    expect(JSON.parse(localStorage.getItem('atspark_prefs')!)).toEqual({ theme: 'dark', rows: 50 })
    expect(consent.prefs.get('rows')).toBe(50)
    consent.set({ preferences: false })
    expect(localStorage.getItem('atspark_prefs')).toBeNull()
    expect(consent.prefs.get('theme')).toBeUndefined()
  })

  test('storage left over without a grant (other revision) is neither read nor kept; garbled storage is replaced', async () => {
    stubNetwork()
    localStorage.setItem('atspark_prefs', '{"theme":"dark"}')
    const consent = await loadConsent('opt-in')
    expect(consent.prefs.get('theme')).toBeUndefined()
    expect(localStorage.getItem('atspark_prefs')).toBeNull()
    consent.set({ preferences: true })
    localStorage.setItem('atspark_prefs', '{not json')
    expect(consent.prefs.get('theme')).toBeUndefined()
    expect(consent.prefs.set('theme', 'light')).toBe(true)
    expect(consent.prefs.get('theme')).toBe('light')
  })

  test('opt-out sites: preferences are on until refused', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-out')
    expect(consent.prefs.set('lang', 'fr')).toBe(true)
  })
})

describe('analytics identifiers', () => {
  test('every gate that is not a grant deletes the anon, session and user ids and the offline queue', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-out')
    localStorage.setItem('atspark_anon', 'a1')
    sessionStorage.setItem('atspark_session', 's1')
    localStorage.setItem('atspark_uid', 'u1')
    localStorage.setItem('atspark_q', '[]')
    expect(consent.gate()).toBe(consent.Gate.grant)
    expect(localStorage.getItem('atspark_anon')).toBe('a1')
    consent.set({ analytics: false })
    expect([localStorage.getItem('atspark_anon'), sessionStorage.getItem('atspark_session'), localStorage.getItem('atspark_uid'), localStorage.getItem('atspark_q')]).toEqual([
      null,
      null,
      null,
      null,
    ])
  })

  test('ids left from an earlier grant are deleted while the choice is pending (opt-in)', async () => {
    stubNetwork()
    const consent = await loadConsent('opt-in')
    localStorage.setItem('atspark_anon', 'stale')
    expect(consent.gate()).toBe(consent.Gate.wait)
    expect(localStorage.getItem('atspark_anon')).toBeNull()
  })
})
