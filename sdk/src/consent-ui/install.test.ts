import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { type AtsparkConsent, installConsentUi } from './install.js'
import { byText, fakeConsent, keydown } from './test-support.js'
import { GIVE_UP_AFTER_LOAD_MS } from './wait-for-core.js'

type Page = Window & { atspark?: { q?: unknown[]; consent?: Record<string, unknown> }; atsparkConsent?: AtsparkConsent }
const page = window as Page
const banner = () => document.querySelector('[role="dialog"][aria-modal="false"]')
const center = () => document.querySelector('[role="dialog"][aria-modal="true"]')

const added: [EventTarget, string, EventListenerOrEventListenerObject][] = []

beforeEach(() => {
  vi.useFakeTimers()
  // Each test installs afresh; listeners from the previous one must not answer clicks.
  for (const target of [window, document]) {
    const add = target.addEventListener.bind(target)
    vi.spyOn(target, 'addEventListener').mockImplementation((type, listener, options) => {
      if (listener) added.push([target, type, listener])
      add(type, listener, options)
    })
  }
})

afterEach(() => {
  for (const [target, type, listener] of added.splice(0)) target.removeEventListener(type, listener)
  vi.clearAllTimers()
  vi.useRealTimers()
  vi.restoreAllMocks()
  delete page.atspark
  delete page.atsparkConsent
  document.body.replaceChildren()
  document.adoptedStyleSheets = []
})

describe('waiting for the core', () => {
  test('core already loaded: the banner shows at once', () => {
    page.atspark = { consent: fakeConsent().api }
    installConsentUi()
    expect(banner()).not.toBeNull()
  })

  test('core loaded later: nothing breaks, and the banner shows once atspark.consent exists', () => {
    installConsentUi()
    vi.advanceTimersByTime(1000)
    expect(banner()).toBeNull()
    expect(typeof page.atsparkConsent?.open).toBe('function')
    expect(typeof page.atsparkConsent?.close).toBe('function')
    page.atspark = { consent: fakeConsent().api }
    vi.advanceTimersByTime(100)
    expect(banner()).not.toBeNull()
    vi.advanceTimersByTime(1000)
    expect(document.querySelectorAll('[role="dialog"]')).toHaveLength(1)
  })

  test("the snippet's pre-load stub is not mistaken for the core", () => {
    // The snippet queues consent.set/onChange calls in `q`; it cannot answer get() before the core is there.
    const queued = () => () => {}
    page.atspark = { q: [], consent: { set: queued, onChange: queued } }
    installConsentUi()
    vi.advanceTimersByTime(500)
    expect(banner()).toBeNull()
    page.atspark = { q: [], consent: { get: queued, set: queued, onChange: queued } }
    vi.advanceTimersByTime(500)
    expect(banner()).toBeNull()
    delete page.atspark!.consent!.get
    vi.advanceTimersByTime(500)
    expect(banner()).toBeNull()
    delete page.atspark!.q
    vi.advanceTimersByTime(500)
    expect(banner()).toBeNull()
    page.atspark = { consent: fakeConsent().api }
    vi.advanceTimersByTime(100)
    expect(banner()).not.toBeNull()
  })

  test(`stops polling ${GIVE_UP_AFTER_LOAD_MS} ms after load`, () => {
    installConsentUi()
    // The test page has loaded already; a real page fires `load` later.
    if (document.readyState !== 'complete') window.dispatchEvent(new Event('load'))
    vi.advanceTimersByTime(GIVE_UP_AFTER_LOAD_MS + 100)
    expect(vi.getTimerCount()).toBe(0)
    page.atspark = { consent: fakeConsent().api }
    vi.advanceTimersByTime(1000)
    expect(banner()).toBeNull()
  })
})

describe('Google Consent Mode before <body>', () => {
  test('the default goes out as soon as the core is found; the banner waits for <body>', () => {
    const google = window as Window & { dataLayer?: unknown[] }
    google.dataLayer = []
    const body = document.body
    body.remove()
    try {
      page.atspark = { consent: fakeConsent().api }
      installConsentUi()
      expect(google.dataLayer.map((entry) => [...(entry as IArguments)].slice(0, 2))).toEqual([['consent', 'default']])
      document.documentElement.appendChild(body)
      expect(banner()).toBeNull()
      document.dispatchEvent(new Event('DOMContentLoaded'))
      expect(banner()).not.toBeNull()
      // The mounted UI carries on from that default instead of sending a second one.
      byText('button', 'Accept all').click()
      expect(google.dataLayer.map((entry) => [...(entry as IArguments)].slice(0, 2))).toEqual([
        ['consent', 'default'],
        ['consent', 'update'],
      ])
    } finally {
      if (!body.isConnected) document.documentElement.appendChild(body)
      delete google.dataLayer
    }
  })
})

describe('window.atsparkConsent and data-atspark-consent="open"', () => {
  test('open() before the core opens the preference center once the core is ready; close() closes it', () => {
    installConsentUi()
    page.atsparkConsent!.open()
    expect(center()).toBeNull()
    page.atspark = { consent: fakeConsent({ decided: true }).api }
    vi.advanceTimersByTime(100)
    expect(center()).not.toBeNull()
    page.atsparkConsent!.close()
    expect(center()).toBeNull()
  })

  test('a click on a marked element (or inside one) opens the preference center; Escape returns focus to it', () => {
    page.atspark = { consent: fakeConsent({ decided: true }).api }
    installConsentUi()
    const link = document.body.appendChild(document.createElement('a'))
    link.href = '#cookies'
    link.setAttribute('data-atspark-consent', 'open')
    const inner = link.appendChild(document.createElement('span'))
    inner.textContent = 'Cookie settings'
    link.focus()
    const click = new MouseEvent('click', { bubbles: true, cancelable: true })
    inner.dispatchEvent(click)
    expect(click.defaultPrevented).toBe(true)
    expect(center()).not.toBeNull()
    expect(center()!.contains(document.activeElement)).toBe(true)
    keydown(document.activeElement!, 'Escape')
    expect(center()).toBeNull()
    expect(document.activeElement).toBe(link)
  })

  test('clicks elsewhere are left alone', () => {
    page.atspark = { consent: fakeConsent({ decided: true }).api }
    installConsentUi()
    const other = document.body.appendChild(document.createElement('a'))
    other.setAttribute('data-atspark-consent', 'something-else')
    const click = new MouseEvent('click', { bubbles: true, cancelable: true })
    other.dispatchEvent(click)
    expect(click.defaultPrevented).toBe(false)
    expect(center()).toBeNull()
  })

  test('a second copy of the bundle adds no second banner, listener or dialog', () => {
    const fake = fakeConsent()
    page.atspark = { consent: fake.api }
    installConsentUi()
    const first = page.atsparkConsent
    installConsentUi()
    expect(page.atsparkConsent).toBe(first)
    expect(document.querySelectorAll('[role="dialog"]')).toHaveLength(1)
    const link = document.body.appendChild(document.createElement('button'))
    link.setAttribute('data-atspark-consent', 'open')
    link.click()
    expect(document.querySelectorAll('[role="dialog"][aria-modal="true"]')).toHaveLength(1)
    byText('button', 'Save', center()!).click()
    expect(fake.setCalls).toHaveLength(1)
  })
})
