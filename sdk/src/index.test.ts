import { BATCH_PATH, CONSENT_PATH, LIMITS, type WireBatch } from '@atspark/schemas'
import { describe, expect, test, vi } from 'vitest'
import { BATCH_URL, dispatchHidden, ENDPOINT, loadSdk, setCookie, setNavigator, settle, setUrl, stubNetwork } from './test-support.js'

async function start(options: Record<string, unknown> = {}) {
  const sdk = await loadSdk()
  sdk.init({ site: 'site-key', endpoint: ENDPOINT, mode: 'opt-out', ...options })
  return sdk
}

const events = (batches: WireBatch[]) => batches.flatMap((b) => b.e)
const analyticsStorage = () => [localStorage.getItem('atspark_anon'), sessionStorage.getItem('atspark_session'), localStorage.getItem('atspark_uid'), localStorage.getItem('atspark_q')]

describe('what is posted', () => {
  test('the paths equal those in @atspark/schemas', async () => {
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in' })
    sdk.consent.set({ analytics: true })
    await sdk.flush()
    expect(net.fetch.mock.calls.map(([url]) => url)).toEqual([ENDPOINT + CONSENT_PATH, ENDPOINT + BATCH_PATH])
  })

  test('init sends a pageview to <endpoint>/v1/batch: a valid WireBatch without query, fragment or full referrer', async () => {
    setUrl('https://app.example/docs/page?email=a@b.c#section')
    Object.defineProperty(document, 'referrer', { value: 'https://search.example/q?term=secret', configurable: true })
    const net = stubNetwork()
    const sdk = await start({ endpoint: `${ENDPOINT}/`, policyRevision: '2026-01' })
    const before = Date.now()
    await sdk.flush()
    Reflect.deleteProperty(document, 'referrer')

    expect(net.fetch).toHaveBeenCalledOnce()
    const [url, init] = net.fetch.mock.calls[0]!
    expect(url).toBe(BATCH_URL)
    // No content-type: text/plain needs no CORS preflight (the body is still JSON).
    expect(init).toEqual({ method: 'POST', body: init.body, keepalive: true, credentials: 'omit' })
    const [batch] = net.posts()
    expect(batch).toMatchObject({ v: 1, k: 'site-key', c: { a: true, p: true, r: '2026-01' } })
    expect(batch!.c.b).toBeUndefined()
    expect(batch!.sa).toBeGreaterThanOrEqual(before)
    const [event] = batch!.e
    expect(event).toEqual({
      id: event!.id,
      t: 'pageview',
      ts: event!.ts,
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

  test('track sends a custom event; query, dashboard and feature send their policy types; names are required', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    sdk.track('signup', { plan: 'pro', seats: 3, nested: { no: 1 } })
    sdk.query('top-pages', { rows: 10 })
    sdk.dashboard('overview')
    sdk.feature('export-csv')
    sdk.track('')
    sdk.query(undefined as never)
    await sdk.flush()
    const sent = events(net.posts())
    expect(sent.map((e) => [e.t, e.n])).toEqual([
      ['custom', 'signup'],
      ['query', 'top-pages'],
      ['dashboard', 'overview'],
      ['feature', 'export-csv'],
    ])
    expect(sent[0]!.p).toEqual({ plan: 'pro', seats: 3 })
    expect(sent[1]!.p).toEqual({ rows: 10 })
    expect(sent[0]).not.toHaveProperty('r')
    expect(new Set(sent.map((e) => e.id)).size).toBe(4)
  })

  test('page(props) records the current path with props; long names and revisions are cut to the wire limits', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false, policyRevision: 'r'.repeat(100) })
    sdk.page({ section: 'docs' })
    sdk.track('n'.repeat(500))
    await sdk.flush()
    const [batch] = net.posts()
    expect(batch!.c.r).toHaveLength(64)
    expect(batch!.e[0]).toMatchObject({ t: 'pageview', p: { section: 'docs' } })
    expect(batch!.e[1]!.n).toHaveLength(LIMITS.nameLength)
  })

  test('nothing is queued or sent before init, and a second init is ignored', async () => {
    const net = stubNetwork()
    const sdk = await loadSdk()
    sdk.track('early')
    sdk.init({ site: 'first', endpoint: ENDPOINT, mode: 'opt-out', autocapture: false })
    sdk.init({ site: 'second', endpoint: 'https://other.example', mode: 'opt-out' })
    sdk.track('late')
    await sdk.flush()
    expect(net.fetch.mock.calls.map(([url]) => url)).toEqual([BATCH_URL])
    expect(net.posts()[0]).toMatchObject({ k: 'first', e: [{ n: 'late' }] })
  })
})

describe('the memory queue', () => {
  test('a request at 20 events, and 5 s after the first of fewer', async () => {
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
    await vi.advanceTimersByTimeAsync(4000)
    sdk.track('e21')
    await vi.advanceTimersByTimeAsync(999)
    expect(net.fetch).toHaveBeenCalledOnce()
    await vi.advanceTimersByTimeAsync(1)
    expect(net.posts()[1]!.e.map((e) => e.n)).toEqual(['e20', 'e21'])
  })
})

describe('bursts', () => {
  test('events tracked in one task share requests: from 20 waiting at the end of the task, at 100 (the wire limit) at once', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    for (let i = 0; i < 50; i++) sdk.track(`a${i}`)
    expect(net.fetch).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(0)
    expect(net.posts().map((b) => b.e.length)).toEqual([50])
    for (let i = 0; i < 250; i++) sdk.track(`b${i}`)
    // Full batches leave from track() itself: the queue never holds more than the wire takes in one request.
    expect(net.posts().map((b) => b.e.length)).toEqual([50, 100, 100])
    await vi.advanceTimersByTimeAsync(0)
    expect(net.posts().map((b) => b.e.length)).toEqual([50, 100, 100, 50])
    const names = [...Array.from({ length: 50 }, (_, i) => `a${i}`), ...Array.from({ length: 250 }, (_, i) => `b${i}`)]
    expect(events(net.posts()).map((e) => e.n)).toEqual(names)
    expect(net.beacon).not.toHaveBeenCalled()
  })

  test('a full batch of ASCII events is one request when it fits 64 KiB; with other characters it is split when it could be over', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    // ~50 KiB of JSON: one request, though 3 bytes per UTF-16 unit would be over.
    for (let i = 0; i < 100; i++) sdk.track(`e${i}`, { text: 'a'.repeat(300) })
    await settle()
    const sizes = () => net.fetch.mock.calls.map(([, init]) => new Blob([String(init.body)]).size)
    expect(sizes()).toHaveLength(1)
    expect(sizes()[0]).toBeGreaterThan(65_536 / 3)
    expect(sizes()[0]).toBeLessThanOrEqual(65_536)
    for (let i = 0; i < 100; i++) sdk.track(`f${i}`, { text: 'é'.repeat(300) })
    await settle()
    expect(sizes().length).toBeGreaterThan(2)
    for (const size of sizes()) expect(size).toBeLessThanOrEqual(65_536)
    expect(events(net.posts())).toHaveLength(200)
  })
})

describe('opt-in, before a decision', () => {
  test('sends nothing, keeps no id, then a grant sends the waiting events with their original ids and timestamps', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in' })
    sdk.track('before')
    const trackedAt = Date.now()
    await sdk.flush()
    window.dispatchEvent(new Event('pagehide'))
    dispatchHidden()
    await vi.advanceTimersByTimeAsync(30_000)
    expect(net.fetch).not.toHaveBeenCalled()
    expect(net.beacon).not.toHaveBeenCalled()
    expect(analyticsStorage()).toEqual([null, null, null, null])

    sdk.consent.set({ analytics: true })
    await vi.advanceTimersByTimeAsync(0)
    const [batch] = net.posts()
    expect(batch!.e.map((e) => [e.t, e.n])).toEqual([
      ['pageview', undefined],
      ['custom', 'before'],
    ])
    expect(batch!.e[1]!.ts).toBe(trackedAt)
    expect(batch!.sa).toBeGreaterThanOrEqual(trackedAt + 30_000)
    expect(batch!.e[0]!.a).toBe(localStorage.getItem('atspark_anon'))
  })

  test('the buffer is bounded: past 100 events the newest are dropped, never stored', async () => {
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in', autocapture: false })
    for (let i = 0; i < 150; i++) sdk.track(`e${i}`)
    expect(Object.keys(localStorage)).toEqual([])
    sdk.consent.set({ analytics: true })
    await settle()
    const sent = events(net.posts())
    expect(sent).toHaveLength(100)
    expect(sent[0]!.n).toBe('e0')
    expect(sent[99]!.n).toBe('e99')
  })

  test('a refusal discards the waiting events for good, and events tracked while refused never leave', async () => {
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in' })
    sdk.track('held')
    sdk.consent.set({ analytics: false }, 'banner')
    sdk.track('while-refused')
    sdk.consent.set({ analytics: true })
    await sdk.flush()
    expect(net.requests()).toBe(0)
    sdk.track('after-grant')
    await sdk.flush()
    expect(events(net.posts()).map((e) => e.n)).toEqual(['after-grant'])
    expect(net.receipts().map((r) => [r.src, r.a])).toEqual([
      ['banner', false],
      ['api', true],
    ])
  })
})

describe('DNT and GPC', () => {
  test.each([
    ['doNotTrack', '1'],
    ['globalPrivacyControl', true],
  ] as const)('%s: no analytics request at all, even after consent.set({ analytics: true }); the receipts still go', async (name, value) => {
    vi.useFakeTimers()
    setNavigator(name, value)
    const net = stubNetwork()
    const sdk = await start()
    sdk.track('x')
    expect(sdk.consent.set({ analytics: true })).toMatchObject({ analytics: false, blockedBy: name === 'doNotTrack' ? 'dnt' : 'gpc' })
    for (let i = 0; i < 25; i++) sdk.track(`x${i}`)
    sdk.identify('user-1')
    await sdk.flush()
    dispatchHidden()
    window.dispatchEvent(new Event('pagehide'))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(net.requests()).toBe(0)
    expect(analyticsStorage()).toEqual([null, null, null, null])
    expect(net.receipts().map((r) => [r.src, r.a])).toEqual([
      [name === 'doNotTrack' ? 'dnt' : 'gpc', false],
      ['api', false],
    ])
  })
})

describe('withdrawal', () => {
  test('drops the queue, deletes anon, session and user ids and the offline queue, and nothing is sent afterwards', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const sdk = await start()
    sdk.identify('user-1')
    await sdk.flush()
    expect(net.fetch).toHaveBeenCalledOnce()
    expect(localStorage.getItem('atspark_anon')).not.toBeNull()
    expect(localStorage.getItem('atspark_uid')).toBe('user-1')
    localStorage.setItem('atspark_q', '[]')

    sdk.track('queued')
    sdk.consent.set({ analytics: false })
    expect(analyticsStorage()).toEqual([null, null, null, null])
    sdk.track('after')
    sdk.page()
    sdk.identify('user-2')
    await sdk.flush()
    dispatchHidden()
    window.dispatchEvent(new Event('pagehide'))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(net.requests()).toBe(1)
    expect(analyticsStorage()).toEqual([null, null, null, null])

    // A later grant starts over: new anon id, no user id from before.
    sdk.consent.set({ analytics: true })
    sdk.track('again')
    await sdk.flush()
    const [, batch] = net.posts()
    expect(batch!.e.map((e) => e.n)).toEqual(['again'])
    expect(batch!.e[0]!.uid).toBeUndefined()
    expect(batch!.e[0]!.a).not.toBe(net.posts()[0]!.e[0]!.a)
  })

  test('stops a retry waiting in backoff, and the batch is not kept offline', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([503, 503])
    const sdk = await start()
    const flushed = sdk.flush()
    await vi.advanceTimersByTimeAsync(0)
    expect(net.fetch).toHaveBeenCalledOnce()
    sdk.consent.set({ analytics: false })
    window.dispatchEvent(new Event('pagehide'))
    expect(localStorage.getItem('atspark_q')).toBeNull()
    await vi.runAllTimersAsync()
    await flushed
    expect(net.requests()).toBe(1)
    expect(localStorage.getItem('atspark_q')).toBeNull()
  })

  test('made in another tab (cookie rewritten) stops this tab at its next send', async () => {
    const net = stubNetwork()
    const sdk = await start()
    sdk.track('queued')
    setCookie(`atspark_consent=1|0|0|other-tab-receipt||${Date.now() + 86_400_000}|; path=/`)
    await sdk.flush()
    expect(net.requests()).toBe(0)
    expect(localStorage.getItem('atspark_anon')).toBeNull()
  })
})

describe('identify and reset', () => {
  test('identify: uid on every event sent while analytics is granted, stored in atspark_uid and read by the next page', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    sdk.track('anonymous')
    sdk.identify('user-42')
    sdk.track('known')
    await sdk.flush()
    expect(events(net.posts()).map((e) => e.uid)).toEqual(['user-42', 'user-42'])
    expect(localStorage.getItem('atspark_uid')).toBe('user-42')
    const next = await start({ autocapture: false })
    next.track('next-page')
    await next.flush()
    expect(net.posts()[1]!.e[0]!.uid).toBe('user-42')
  })

  test('identify while the choice is pending keeps the id in memory only, and it is sent after a grant', async () => {
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in', autocapture: false })
    sdk.identify('user-7')
    sdk.track('x')
    expect(localStorage.getItem('atspark_uid')).toBeNull()
    sdk.consent.set({ analytics: true })
    await settle()
    expect(net.posts()[0]!.e[0]!.uid).toBe('user-7')
    expect(localStorage.getItem('atspark_uid')).toBe('user-7')
  })

  test('reset: what was queued leaves under the old ids; afterwards a new anon id and session, and no user id', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    sdk.identify('user-1')
    sdk.track('before-logout')
    sdk.reset()
    expect(localStorage.getItem('atspark_uid')).toBeNull()
    sdk.track('after-logout')
    await sdk.flush()
    const [before, after] = net.posts().map((b) => b.e[0]!)
    expect(before).toMatchObject({ n: 'before-logout', uid: 'user-1' })
    expect(after!.n).toBe('after-logout')
    expect(after!.uid).toBeUndefined()
    expect(after!.a).not.toBe(before!.a)
    expect(after!.s).not.toBe(before!.s)
    expect(after!.a).toBe(localStorage.getItem('atspark_anon'))
  })
})

describe('a refusal outlives a policy revision', () => {
  test('opt-out: refused under revision 1, a page under revision 2 tracks nothing: no request, no id, nothing kept', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const first = await start({ policyRevision: '1' })
    await first.flush()
    expect(net.posts()).toHaveLength(1)
    first.consent.set({ analytics: false }, 'banner')
    const sdk = await start({ policyRevision: '2' })
    expect(sdk.consent.get()).toMatchObject({ analytics: false, decided: true })
    sdk.identify('user-1')
    sdk.track('after-new-revision')
    await sdk.flush()
    window.dispatchEvent(new Event('pagehide'))
    dispatchHidden()
    await vi.advanceTimersByTimeAsync(30_000)
    expect(net.posts()).toHaveLength(1)
    expect(net.requests()).toBe(1)
    expect(analyticsStorage()).toEqual([null, null, null, null])
    expect(net.receipts().map((r) => [r.src, r.a, r.r])).toEqual([['banner', false, '1']])
  })

  test('opt-in: setting preferences alone keeps the held events waiting (no refusal), and a later grant sends them', async () => {
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in', autocapture: false })
    sdk.track('held')
    expect(sdk.consent.set({ preferences: true })).toMatchObject({ analytics: false, decided: false })
    await sdk.flush()
    expect(net.requests()).toBe(0)
    sdk.consent.set({ analytics: true })
    await sdk.flush()
    expect(events(net.posts()).map((e) => e.n)).toEqual(['held'])
  })
})

describe('control characters never cost a browser its events', () => {
  test("identify('user-123\\n'): the uid is cleaned before it is queued or stored, and every batch is one the edge accepts", async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    sdk.identify('user-123\n')
    sdk.track('first')
    await sdk.flush()
    expect(localStorage.getItem('atspark_uid')).toBe('user-123')
    const next = await start({ autocapture: false })
    next.track('next-page')
    await next.flush()
    // posts() parses every body with the edge's zod schemas: a refused event would throw here.
    expect(events(net.posts()).map((e) => [e.n, e.uid])).toEqual([
      ['first', 'user-123'],
      ['next-page', 'user-123'],
    ])
  })

  test('a uid stored by an older SDK with control characters heals on the next page; a bad anon id is replaced', async () => {
    const net = stubNetwork()
    localStorage.setItem('atspark_uid', '\tuser-9\r\n')
    localStorage.setItem('atspark_anon', 'anon\n')
    const sdk = await start({ autocapture: false })
    sdk.track('healed')
    await sdk.flush()
    const [event] = events(net.posts())
    expect(event).toMatchObject({ n: 'healed', uid: 'user-9' })
    expect(event!.a).not.toBe('anon\n')
    expect([localStorage.getItem('atspark_uid'), localStorage.getItem('atspark_anon')]).toEqual(['user-9', event!.a])
  })

  test('names and prop keys are cleaned or dropped, a name of only control characters is no event, an id of only them changes nothing', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: { pageviews: false } })
    sdk.identify('user-5')
    sdk.identify('\n\u0000')
    sdk.track('sign\nup', { 'bad\u0007key': 1, ok: 'line 1\nline 2\u0000' })
    sdk.feature('\r\n')
    sdk.query(`${'q'.repeat(127)}\u0085xyz`)
    document.body.innerHTML = '<button data-atspark="buy&#10;now">Buy</button>'
    document.querySelector('button')!.click()
    await sdk.flush()
    expect(events(net.posts()).map((e) => [e.t, e.n, e.p, e.uid])).toEqual([
      ['custom', 'signup', { ok: 'line 1\nline 2' }, 'user-5'],
      ['query', 'q'.repeat(127) + 'x', undefined, 'user-5'],
      ['click', 'buynow', undefined, 'user-5'],
    ])
  })
})

describe('delivery', () => {
  test('retries on 503 with the same event ids, the ids they were first sent with, and a fresh sent_at', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([503])
    const sdk = await start()
    const done = sdk.flush()
    await vi.advanceTimersByTimeAsync(0)
    sdk.reset()
    await vi.advanceTimersByTimeAsync(5000)
    await done
    const [first, second] = net.posts()
    expect(net.fetch).toHaveBeenCalledTimes(2)
    expect(second!.e.map((e) => e.id)).toEqual(first!.e.map((e) => e.id))
    expect(second!.e.map((e) => e.a)).toEqual(first!.e.map((e) => e.a))
    expect(second!.sa).toBeGreaterThan(first!.sa)
  })

  test('does not retry on 400', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([400])
    const sdk = await start()
    await sdk.flush()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(net.fetch).toHaveBeenCalledOnce()
    expect(localStorage.getItem('atspark_q')).toBeNull()
  })

  test('pagehide sends the queue with sendBeacon as a string (text/plain, no preflight), not fetch', async () => {
    const net = stubNetwork()
    const sdk = await start()
    sdk.track('last')
    window.dispatchEvent(new Event('pagehide'))
    await settle()
    expect(net.fetch).not.toHaveBeenCalled()
    expect(net.beacon).toHaveBeenCalledOnce()
    const [url, body] = net.beacon.mock.calls[0]!
    expect(url).toBe(BATCH_URL)
    expect(typeof body).toBe('string')
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

  test('no body exceeds 64 KiB: a large batch is split, every event sent once', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    const big = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`k${i}`, 'é'.repeat(512)]))
    for (let i = 0; i < 19; i++) sdk.track(`e${i}`, big)
    await sdk.flush()
    const bodies = net.fetch.mock.calls.map(([, init]) => new Blob([String(init.body)]).size)
    expect(bodies.length).toBeGreaterThan(1)
    for (const size of bodies) expect(size).toBeLessThanOrEqual(64 * 1024)
    expect(events(net.posts()).map((e) => e.n)).toEqual(Array.from({ length: 19 }, (_, i) => `e${i}`))
  })
})

describe('offline queue (localStorage atspark_q)', () => {
  test('keeps a batch whose retries ran out, and the next page load sends it with the same ids, then deletes it', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([0, 0, 0, 0, 0])
    const sdk = await start({ autocapture: false })
    sdk.track('offline-1')
    sdk.track('offline-2')
    const done = sdk.flush()
    await vi.runAllTimersAsync()
    await done
    expect(net.fetch).toHaveBeenCalledTimes(5)
    const kept = JSON.parse(localStorage.getItem('atspark_q')!)
    expect(kept.map((e: { n: string }) => e.n)).toEqual(['offline-1', 'offline-2'])

    const next = await start({ autocapture: false })
    await vi.advanceTimersByTimeAsync(0)
    expect(localStorage.getItem('atspark_q')).toBeNull()
    const replayed = net.posts().at(-1)!.e
    expect(replayed.map((e) => e.id)).toEqual(kept.map((e: { id: string }) => e.id))
    expect(replayed.map((e) => e.ts)).toEqual(kept.map((e: { ts: number }) => e.ts))
    await next.flush()
  })

  test('a page leaving with a send in backoff keeps it for the next load (once, however many leave events)', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([503])
    const sdk = await start()
    void sdk.flush()
    await vi.advanceTimersByTimeAsync(0)
    expect(net.fetch).toHaveBeenCalledOnce()
    dispatchHidden()
    window.dispatchEvent(new Event('pagehide'))
    const kept = JSON.parse(localStorage.getItem('atspark_q')!)
    expect(kept).toHaveLength(1)
    expect(kept[0].id).toBe(net.posts()[0]!.e[0]!.id)
  })

  test('is bounded to 100 events', async () => {
    vi.useFakeTimers()
    stubNetwork(Array(50).fill(0))
    const sdk = await start({ autocapture: false })
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 20; i++) sdk.track(`r${round}e${i}`)
      await vi.runAllTimersAsync()
    }
    const kept = JSON.parse(localStorage.getItem('atspark_q')!)
    expect(kept).toHaveLength(100)
    expect(kept[0].n).toBe('r0e0')
  })

  test('is never written without the analytics grant, and is deleted on a later load that lacks it', async () => {
    vi.useFakeTimers()
    stubNetwork([0, 0, 0, 0, 0])
    const sdk = await start({ autocapture: false })
    sdk.track('x')
    const done = sdk.flush()
    await vi.advanceTimersByTimeAsync(0)
    sdk.consent.set({ analytics: false })
    await vi.runAllTimersAsync()
    await done
    expect(localStorage.getItem('atspark_q')).toBeNull()

    localStorage.setItem('atspark_q', JSON.stringify([{ id: 'x' }]))
    setCookie('atspark_consent=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/')
    const net = stubNetwork()
    await start({ mode: 'opt-in' })
    expect(localStorage.getItem('atspark_q')).toBeNull()
    await vi.runAllTimersAsync()
    expect(net.requests()).toBe(0)
  })

  test('garbled storage is ignored', async () => {
    localStorage.setItem('atspark_q', '{oops')
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    await sdk.flush()
    expect(net.requests()).toBe(0)
    expect(localStorage.getItem('atspark_q')).toBeNull()
  })
})

describe('main-thread cost per event', () => {
  test('Intl.DateTimeFormat runs at most once per page, never in init or track(), and every sent event carries the time zone', async () => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone
    const intl = vi.spyOn(Intl, 'DateTimeFormat')
    const net = stubNetwork()
    const sdk = await start()
    // With the pageview from init, 19 events: one short of a batch.
    for (let i = 0; i < 18; i++) sdk.track('before-first-batch', { i })
    // The first Intl.DateTimeFormat() of a page starts ICU (13–51 ms in Chromium): not in the script tag, not in track().
    expect(intl).not.toHaveBeenCalled()
    for (let i = 0; i < 200; i++) sdk.track('many', { i })
    await sdk.flush()
    expect(intl).toHaveBeenCalledOnce()
    const sent = events(net.posts())
    expect(sent).toHaveLength(219)
    expect(new Set(sent.map((e) => e.tz))).toEqual(new Set([zone]))
    expect(sent.every((e) => e.sw === screen.width && e.l === navigator.language)).toBe(true)
  })

  test('track() reads neither the consent cookie nor more than one random source per event, and measures no Blob', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    const cookie = vi.spyOn(document, 'cookie', 'get')
    const random = vi.spyOn(crypto, 'getRandomValues')
    const randomUUID = vi.spyOn(crypto, 'randomUUID')
    const blob = vi.spyOn(globalThis, 'Blob')
    for (let i = 0; i < 40; i++) sdk.track('cheap', { i })
    await settle()
    // The batch went out: one random call per event (plus the anon and session ids, made once), no Blob (~0.3 ms each).
    expect(net.posts().map((b) => b.e.length)).toEqual([40])
    expect(random.mock.calls.length + randomUUID.mock.calls.length).toBe(40 + 2)
    expect(blob).not.toHaveBeenCalled()
    cookie.mockClear()
    for (let i = 0; i < 19; i++) sdk.track('cheap', { i })
    expect(cookie).not.toHaveBeenCalled()
    // Every send reads the cookie afresh, so a stale answer never reaches the network: the gate's read, and the
    // preferences flag for the body (each read costs 6–60 µs in Chromium).
    await sdk.flush()
    expect(cookie).toHaveBeenCalledTimes(2)
  })

  test('screen size and locale are read once per batch, not per event; an event carries the values of its first send', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    const width = vi.spyOn(screen, 'width', 'get')
    const language = vi.spyOn(navigator, 'language', 'get')
    for (let i = 0; i < 60; i++) sdk.track('e', { i })
    expect(width).not.toHaveBeenCalled()
    expect(language).not.toHaveBeenCalled()
    await settle()
    expect(net.posts()).toHaveLength(1)
    expect(width).toHaveBeenCalledOnce()
    expect(language).toHaveBeenCalledOnce()
    expect(events(net.posts()).every((e) => e.sw === screen.width && e.sh === screen.height && e.l === navigator.language)).toBe(true)
  })

  test('tracking and sending never write the offline queue: only a batch whose retries ran out, or one in flight at pagehide', async () => {
    vi.useFakeTimers()
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    const writes = vi.spyOn(Storage.prototype, 'setItem')
    for (let i = 0; i < 250; i++) sdk.track('e', { i })
    await vi.advanceTimersByTimeAsync(0)
    expect(events(net.posts())).toHaveLength(250)
    expect(writes.mock.calls.map(([key]) => key).filter((key) => key === 'atspark_q')).toEqual([])
    // A tracked event and then the page hidden: beaconed at once, nothing left for storage.
    sdk.track('last')
    dispatchHidden()
    expect((await net.beacons()).flatMap((b) => b.e.map((e) => e.n))).toEqual(['last'])
    expect(localStorage.getItem('atspark_q')).toBeNull()
  })

  test('a batch is serialised once per attempt, not once more for its first fetch', async () => {
    const net = stubNetwork([503])
    vi.useFakeTimers()
    const sdk = await start({ autocapture: false })
    const stringify = vi.spyOn(JSON, 'stringify')
    const batches = () => stringify.mock.calls.filter(([value]) => (value as { e?: unknown })?.e).length
    for (let i = 0; i < 20; i++) sdk.track('batched', { i })
    await vi.advanceTimersByTimeAsync(0)
    expect(batches()).toBe(1)
    await vi.runAllTimersAsync()
    // The retry after the 503 re-stamps sent_at, so it serialises again.
    expect(batches()).toBe(2)
    expect(net.posts().map((b) => b.e.length)).toEqual([20, 20])
  })

  test('a withdrawal in another tab reaches this tab on focus: queue dropped, ids deleted, nothing sent', async () => {
    const net = stubNetwork()
    const sdk = await start({ autocapture: false })
    sdk.track('queued')
    await sdk.flush()
    sdk.track('queued-again')
    expect(localStorage.getItem('atspark_anon')).not.toBeNull()
    setCookie(`atspark_consent=1|0|0|other-tab-receipt||${Date.now() + 86_400_000}|; path=/`)
    window.dispatchEvent(new Event('focus'))
    expect(analyticsStorage()).toEqual([null, null, null, null])
    sdk.track('after')
    await sdk.flush()
    expect(net.requests()).toBe(1)
  })

  test('a grant in another tab reaches this tab on visibilitychange', async () => {
    const net = stubNetwork()
    const sdk = await start({ mode: 'opt-in', autocapture: false })
    sdk.consent.set({ analytics: false })
    setCookie(`atspark_consent=1|1|0|other-tab-receipt||${Date.now() + 86_400_000}|; path=/`)
    document.dispatchEvent(new Event('visibilitychange'))
    sdk.track('granted-elsewhere')
    await sdk.flush()
    expect(events(net.posts()).map((e) => e.n)).toEqual(['granted-elsewhere'])
    expect(net.beacon).not.toHaveBeenCalled()
  })
})
