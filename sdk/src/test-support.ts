// Test-only helpers (excluded from the build): a stubbed network, browser signals, and a fresh SDK per test.
import { WireBatch } from '@atspark/schemas'
import { afterEach, vi } from 'vitest'

type Listener = [EventTarget, string, EventListenerOrEventListenerObject]
const listeners: Listener[] = []
const navigatorOverrides = new Set<string>()

/** Overrides a navigator property (DNT, GPC, sendBeacon) for one test. */
export function setNavigator(name: string, value: unknown): void {
  Object.defineProperty(navigator, name, { value, configurable: true })
  navigatorOverrides.add(name)
}

/**
 * Stubs fetch and sendBeacon. `statuses` are answered in order (then 202); a status of 0 is a network error.
 * `posts()` and `beacons()` return the parsed bodies, each validated against the zod WireBatch.
 */
export function stubNetwork(statuses: number[] = [], headers: Record<string, string> = {}) {
  const fetchMock = vi.fn(async (_url: string, _init: RequestInit) => {
    const status = statuses.shift() ?? 202
    if (status === 0) throw new TypeError('Failed to fetch')
    return new Response(null, { status, headers })
  })
  const beaconMock = vi.fn((_url: string, _data: Blob) => true)
  vi.stubGlobal('fetch', fetchMock)
  setNavigator('sendBeacon', beaconMock)
  return {
    fetch: fetchMock,
    beacon: beaconMock,
    posts: () => fetchMock.mock.calls.map(([, init]) => WireBatch.parse(JSON.parse(String(init.body)))),
    beacons: () => Promise.all(beaconMock.mock.calls.map(async ([, blob]) => WireBatch.parse(JSON.parse(await blob.text())))),
    requests: () => fetchMock.mock.calls.length + beaconMock.mock.calls.length,
  }
}

/** A fresh copy of the SDK's modules; listeners it adds to window/document are removed after the test. */
export async function loadSdk() {
  vi.resetModules()
  for (const target of [window, document]) {
    const add = target.addEventListener.bind(target)
    vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
      if (listener) listeners.push([target, type, listener])
      add(type, listener, options)
    })
  }
  return import('./index.js')
}

/** Writes a raw cookie, as another tab or a tampering page would. */
export function setCookie(cookie: string): void {
  // biome-ignore lint/suspicious/noDocumentCookie: tests write the raw cookie the SDK must cope with
  document.cookie = cookie
}

/** Lets pending promise callbacks (fetch stubs, async flushes) run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

export function dispatchHidden(): void {
  Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
  document.dispatchEvent(new Event('visibilitychange'))
  Reflect.deleteProperty(document, 'visibilityState')
}

afterEach(() => {
  for (const [target, type, listener] of listeners.splice(0)) target.removeEventListener(type, listener)
  for (const name of navigatorOverrides) Reflect.deleteProperty(navigator, name)
  navigatorOverrides.clear()
  vi.useRealTimers()
  vi.restoreAllMocks()
  ;(window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL('http://localhost:3000/')
  vi.unstubAllGlobals()
  setCookie('atspark_consent=; max-age=0; path=/')
  localStorage.clear()
  sessionStorage.clear()
})
