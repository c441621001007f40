// Test-only helpers (excluded from the build): a stubbed network, browser signals, and a fresh SDK per test.
import { BATCH_PATH, CONSENT_PATH, WireBatch, WireConsentReceipt } from '@atspark/schemas'
import { afterEach, vi } from 'vitest'

type Listener = [EventTarget, string, EventListenerOrEventListenerObject, boolean | AddEventListenerOptions | undefined]
const listeners: Listener[] = []
const navigatorOverrides = new Set<string>()
const { pushState, replaceState } = history
const addToWindow = window.addEventListener
const addToDocument = document.addEventListener

export const ENDPOINT = 'https://ingest.example'
export const BATCH_URL = ENDPOINT + BATCH_PATH
export const RECEIPT_URL = ENDPOINT + CONSENT_PATH

/** Overrides a navigator property (DNT, GPC, sendBeacon) for one test. */
export function setNavigator(name: string, value: unknown): void {
  Object.defineProperty(navigator, name, { value, configurable: true })
  navigatorOverrides.add(name)
}

/**
 * Stubs fetch and sendBeacon. `statuses` answer fetches to `/v1/batch` in order (then 202); 0 is a network
 * error. Receipts (`/v1/consent`) always get 202. Every parsed body is validated against the zod schemas.
 */
export function stubNetwork(statuses: number[] = [], headers: Record<string, string> = {}) {
  const fetchMock = vi.fn(async (url: string, _init: RequestInit) => {
    const status = url.endsWith(BATCH_PATH) ? (statuses.shift() ?? 202) : 202
    if (status === 0) throw new TypeError('Failed to fetch')
    return new Response(null, { status, headers })
  })
  const beaconMock = vi.fn((_url: string, _data: string) => true)
  vi.stubGlobal('fetch', fetchMock)
  setNavigator('sendBeacon', beaconMock)
  const bodies = (path: string) => fetchMock.mock.calls.filter(([url]) => url.endsWith(path)).map(([, init]) => JSON.parse(String(init.body)))
  return {
    fetch: fetchMock,
    beacon: beaconMock,
    /** Batches posted with fetch, in order. */
    posts: () => bodies(BATCH_PATH).map((body) => WireBatch.parse(body)),
    /** Consent receipts posted with fetch, in order. */
    receipts: () => bodies(CONSENT_PATH).map((body) => WireConsentReceipt.parse(body)),
    /** Raw receipt bodies, to check what they do not carry. */
    rawReceipts: () => bodies(CONSENT_PATH) as Record<string, unknown>[],
    beacons: async () => beaconMock.mock.calls.map(([, body]) => WireBatch.parse(JSON.parse(body))),
    /** Analytics requests: batch fetches and beacons (receipts are essential and not counted). */
    requests: () => fetchMock.mock.calls.filter(([url]) => !url.endsWith(CONSENT_PATH)).length + beaconMock.mock.calls.length,
  }
}

/** A fresh copy of the SDK's modules; listeners it adds to window/document are removed after the test. */
export async function loadSdk() {
  vi.resetModules()
  for (const target of [window, document]) {
    // The unspied method: a second loadSdk() in one test must not wrap the spy in itself.
    const add = (target === window ? addToWindow : addToDocument).bind(target)
    vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
      if (listener) listeners.push([target, type, listener, options])
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

export const consentCookie = () => document.cookie.match(/(?:^|; )atspark_consent=([^;]*)/)?.[1]

/** Lets pending promise callbacks (fetch stubs, async flushes) run. */
export const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

export function setUrl(url: string): void {
  ;(window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(url)
}

export function dispatchHidden(): void {
  Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
  document.dispatchEvent(new Event('visibilitychange'))
  Reflect.deleteProperty(document, 'visibilityState')
}

afterEach(() => {
  for (const [target, type, listener, options] of listeners.splice(0)) target.removeEventListener(type, listener, options)
  // Each fresh SDK wraps the history methods; unwrap so an earlier copy cannot record pageviews in a later test.
  Object.assign(history, { pushState, replaceState })
  Reflect.deleteProperty(window, 'atspark')
  document.body.innerHTML = ''
  for (const name of navigatorOverrides) Reflect.deleteProperty(navigator, name)
  navigatorOverrides.clear()
  vi.useRealTimers()
  vi.restoreAllMocks()
  setUrl('http://localhost:3000/')
  vi.unstubAllGlobals()
  setCookie('atspark_consent=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/')
  localStorage.clear()
  sessionStorage.clear()
})
