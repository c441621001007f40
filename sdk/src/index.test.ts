import { BATCH_PATH, type WireBatch } from '@atspark/schemas'
import { describe, expect, test, vi } from 'vitest'
import { dispatchHidden, loadSdk, setCookie, setNavigator, settle, stubNetwork } from './test-support.js'

const ENDPOINT = 'https://ingest.example'
const URL_ = ENDPOINT + BATCH_PATH

type Page = { happyDOM: { setURL(url: string): void } }
const setUrl = (url: string) => (window as unknown as Page).happyDOM.setURL(url)

async function start(options: Record<string, unknown> = {}) {
  const sdk = await loadSdk()
  sdk.init({ site: 'site-key', endpoint: ENDPOINT, mode: 'opt-out', ...options })
  return sdk
}

const events = (batches: WireBatch[]) => batches.flatMap((b) => b.e)

describe('what is posted', () => {
  test('init sends a pageview to <endpoint>/v1/batch: a valid WireBatch without query, fragment or full referrer', async () => {
    setUrl('https://app.example/docs/page?email=a@b.c#section')
    Object.defineProperty(document, 'referrer', { value: 'https://search.example/q?term=secret', configurable: true })
    const net = stubNetwork()
    const sdk = await start({ endpoint: `${ENDPOINT}/`, policyRevision: '2026-01' })
    const before = Date.now()
    await sdk.flush()
    Reflect.deleteProperty(document, 'referrer')

    expect(net.fetch).toHaveBeenCalledOnce()
    expect(net.fetch.mock.calls[0]![0]).toBe(URL_)
    const [batch] = net.posts()
    expect(batch).toMatchObject({ v: 1, k: 'site-key', c: { a: true, p: true, r: '2026-01' } })
    expect(batch!.sa).toBeGreaterThanOrEqual(before)
    expect(batch!.e).toHaveLength(1)
    const [event] = batch!.e
    expect(event).toMatchObject({
      t: 'pageview',
      u: 'https://app.example/docs/page',
      r: 'https://search.example/q',
      a: localStorage.getItem('atspark_anon'),
      s: sessionStorage.getItem('atspark_session'),
      sw: screen.width,
      sh: screen.height,
      l: navigator.language,
      tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
    })
    expect(event!.ts).toBeLessThanOrEqual(batch!.sa)
    expect(JSON.stringify(batch)).not.toMatch(/secret|email|section/)
  })

  test('track sends a custom event with its name and cleaned props, oldest first', async () => {
    const net = stubNetwork()
    const sdk = await start()
    sdk.track('signup', { plan: 'pro', seats: 3, nested: { no: 1 } })
    await sdk.flush()
    const sent = events(net.posts())
    expect(sent.map((e) => e.t)).toEqual(['pageview', 'custom'])
    expect(sent[1]).toMatchObject({ n: 'signup', p: { plan: 'pro', seats: 3 } })
    expect(sent[1]!.p).not.toHaveProperty('nested')
    expect(sent[1]).not.toHaveProperty('r')
    expect(new Set(sent.map((e) => e.id)).size).toBe(2)
  })

  test('autocapture: false sends no pageview; track without a name is ignored', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    sdk.track('')
    await sdk.flush()
    expect(net.requests()).toBe(0)
  })

  test('nothing is queued or sent before init, and a second init is ignored', async () => {
    const net = stubNetwork()
    const sdk = await loadSdk()
    sdk.track('early')
    sdk.init({ site: 'first', endpoint: ENDPOINT, mode: 'opt-out', autocapture: false })
    sdk.init({ site: 'second', endpoint: 'https://other.example', mode: 'opt-out' })
    sdk.track('late')
    await sdk.flush()
    expect(net.fetch.mock.calls.map(([url]) => url)).toEqual([URL_])
    expect(net.posts()[0]).toMatchObject({ k: 'first', e: [{ n: 'late' }] })
  })

  test('batches: a request at 20 events, and after 5 s for fewer', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    for (let i = 0; i < 19; i++) sdk.track(`e${i}`)
    await vi.advanceTimersByTimeAsync(0)
    expect(net.fetch).not.toHaveBeenCalled()
    sdk.track('e19')
    await vi.advanceTimersByTimeAsync(0)
    expect(net.posts()).toHaveLength(1)
    expect(net.posts()[0]!.e).toHaveLength(20)
    sdk.track('e20')
    await vi.advanceTimersByTimeAsync(4999)
    expect(net.fetch).toHaveBeenCalledOnce()
    await vi.advanceTimersByTimeAsync(1)
    expect(net.posts()[1]!.e.map((e) => e.n)).toEqual(['e20'])
  })
})

describe('DNT and GPC', () => {
  test.each([
    ['doNotTrack', '1'],
    ['globalPrivacyControl', true],
  ] as const)('%s: no request at all, even after consent.set({ analytics: true }), and no anon id', async (name, value) => {
    vi.useFakeTimers()
    setNavigator(name, value)
    const net = stubNetwork()
    const sdk = await start()
    sdk.track('x')
    expect(sdk.consent.set({ analytics: true })).toMatchObject({ analytics: false, signal: name === 'doNotTrack' ? 'dnt' : 'gpc' })
    for (let i = 0; i < 25; i++) sdk.track(`x${i}`)
    await sdk.flush()
    dispatchHidden()
    window.dispatchEvent(new Event('pagehide'))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(net.requests()).toBe(0)
    expect(localStorage.getItem('atspark_anon')).toBeNull()
    expect(sessionStorage.getItem('atspark_session')).toBeNull()
  })
})

describe('opt-in', () => {
  test('sends nothing before a grant, then sends the waiting events with their original timestamps', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in' })
    sdk.track('before')
    const trackedAt = Date.now()
    await sdk.flush()
    window.dispatchEvent(new Event('pagehide'))
    await vi.advanceTimersByTimeAsync(30_000)
    expect(net.requests()).toBe(0)
    expect(localStorage.getItem('atspark_anon')).toBeNull()

    sdk.consent.set({ analytics: true })
    await vi.advanceTimersByTimeAsync(0)
    const [batch] = net.posts()
    expect(batch!.e.map((e) => e.t)).toEqual(['pageview', 'custom'])
    expect(batch!.e[1]!.ts).toBe(trackedAt)
    expect(batch!.sa).toBeGreaterThanOrEqual(trackedAt + 30_000)
    expect(batch!.e[0]!.a).toBe(localStorage.getItem('atspark_anon'))
  })

  test('a refusal discards the waiting events for good, and events tracked while refused never leave', async () => {
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in' })
    sdk.track('held')
    sdk.consent.set({ analytics: false })
    sdk.track('while-refused')
    sdk.consent.set({ analytics: true })
    await sdk.flush()
    expect(net.requests()).toBe(0)
    sdk.track('after-grant')
    await sdk.flush()
    expect(events(net.posts()).map((e) => e.n)).toEqual(['after-grant'])
  })
})

describe('withdrawal', () => {
  test('drops the queue, deletes the anon id, and nothing is sent afterwards', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const sdk = await start()
    await sdk.flush()
    expect(net.fetch).toHaveBeenCalledOnce()
    expect(localStorage.getItem('atspark_anon')).not.toBeNull()

    sdk.track('queued')
    sdk.consent.set({ analytics: false })
    expect(localStorage.getItem('atspark_anon')).toBeNull()
    expect(sessionStorage.getItem('atspark_session')).toBeNull()
    sdk.track('after')
    sdk.page()
    await sdk.flush()
    dispatchHidden()
    window.dispatchEvent(new Event('pagehide'))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(net.requests()).toBe(1)
    expect(localStorage.getItem('atspark_anon')).toBeNull()
  })

  test('cancels a retry waiting in backoff', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([503, 503])
    const sdk = await start()
    const flushed = sdk.flush()
    await vi.advanceTimersByTimeAsync(0)
    expect(net.fetch).toHaveBeenCalledOnce()
    sdk.consent.set({ analytics: false })
    await vi.runAllTimersAsync()
    await flushed
    expect(net.fetch).toHaveBeenCalledOnce()
  })

  test('made in another tab (cookie rewritten) stops this tab at its next send', async () => {
    const net = stubNetwork()
    const sdk = await start()
    sdk.track('queued')
    setCookie(`atspark_consent=1|0|0|other-tab-receipt||${Date.now() + 86_400_000}; path=/`)
    await sdk.flush()
    expect(net.requests()).toBe(0)
    expect(localStorage.getItem('atspark_anon')).toBeNull()
  })
})

describe('delivery', () => {
  test('retries on 503 with the same event ids and a fresh sent_at', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([503])
    const sdk = await start()
    const done = sdk.flush()
    await vi.advanceTimersByTimeAsync(5000)
    await done
    const [first, second] = net.posts()
    expect(net.fetch).toHaveBeenCalledTimes(2)
    expect(second!.e.map((e) => e.id)).toEqual(first!.e.map((e) => e.id))
    expect(second!.sa).toBeGreaterThan(first!.sa)
  })

  test('does not retry on 400', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([400])
    const sdk = await start()
    await sdk.flush()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(net.fetch).toHaveBeenCalledOnce()
  })

  test('pagehide sends the queue with sendBeacon as text/plain, not fetch', async () => {
    const net = stubNetwork()
    const sdk = await start()
    sdk.track('last')
    window.dispatchEvent(new Event('pagehide'))
    await settle()
    expect(net.fetch).not.toHaveBeenCalled()
    expect(net.beacon).toHaveBeenCalledOnce()
    const [url, blob] = net.beacon.mock.calls[0]!
    expect(url).toBe(URL_)
    expect(blob.type).toBe('text/plain')
    const [batch] = await net.beacons()
    expect(batch!.e.map((e) => e.t)).toEqual(['pageview', 'custom'])
  })

  test('visibilitychange to hidden also beacons; visible does not', async () => {
    const net = stubNetwork()
    await start()
    document.dispatchEvent(new Event('visibilitychange'))
    await settle()
    expect(net.beacon).not.toHaveBeenCalled()
    dispatchHidden()
    await settle()
    expect(net.beacon).toHaveBeenCalledOnce()
    expect(await net.beacons()).toHaveLength(1)
  })

  test('falls back to fetch when sendBeacon refuses the body', async () => {
    const net = stubNetwork()
    net.beacon.mockReturnValue(false)
    await start()
    window.dispatchEvent(new Event('pagehide'))
    await settle()
    expect(net.beacon).toHaveBeenCalledOnce()
    expect(net.posts()).toHaveLength(1)
  })
})
