import { afterEach, describe, expect, test, vi } from 'vitest'
import { consentCookie, RECEIPT_URL, setNavigator, stubNetwork } from '../test-support.js'
import type { ConsentState } from './consent-api.js'
import { mountConsentUi } from './consent-ui.js'
import { byText, fakeConsent, keydown } from './test-support.js'

const banner = () => document.querySelector<HTMLElement>('[role="dialog"][aria-modal="false"]')
const center = () => document.querySelector<HTMLElement>('[role="dialog"][aria-modal="true"]')
const checkbox = (name: string) => {
  const label = byText<HTMLLabelElement>('label', name, center()!)
  return document.getElementById(label.htmlFor) as HTMLInputElement
}
const describedBy = (node: Element) =>
  (node.getAttribute('aria-describedby') || '')
    .split(' ')
    .map((id) => document.getElementById(id)?.textContent)
    .join(' ')

function mount(state: Partial<ConsentState> = {}) {
  const fake = fakeConsent(state)
  const ui = mountConsentUi(fake.api)
  return { ...fake, ui }
}

/** Opens the preference center from the banner's Preferences button, as a visitor would. */
function openFromBanner() {
  const opener = byText<HTMLButtonElement>('button', 'Preferences', banner()!)
  opener.focus()
  opener.click()
  return opener
}

afterEach(() => {
  document.body.replaceChildren()
  document.adoptedStyleSheets = []
  const win = window as Window & { dataLayer?: unknown; gtag?: unknown }
  delete win.dataLayer
  delete win.gtag
})

describe('banner', () => {
  test('shows when undecided: a labelled, non-modal dialog with three real buttons, focus inside', () => {
    mount({ decided: false })
    const node = banner()!
    expect(node).not.toBeNull()
    expect(document.getElementById(node.getAttribute('aria-labelledby')!)?.textContent).toBe('Your privacy')
    expect(describedBy(node)).toMatch(/essential cookies/)
    const buttons = [...node.querySelectorAll('button')]
    expect(buttons.map((b) => [b.textContent, b.type])).toEqual([
      ['Accept all', 'button'],
      ['Reject all', 'button'],
      ['Preferences', 'button'],
    ])
    expect(node.contains(document.activeElement)).toBe(true)
    // Not blocking the page: no backdrop or modal is put up with it.
    expect(center()).toBeNull()
    expect(document.querySelector('.atspark-overlay')).toBeNull()
  })

  test('does not show when decided', () => {
    mount({ decided: true, analytics: true })
    expect(banner()).toBeNull()
    expect(document.body.children).toHaveLength(0)
  })

  test('Accept all grants analytics and preferences with source banner, then goes away', () => {
    const { setCalls, api } = mount()
    byText('button', 'Accept all').click()
    expect(setCalls).toEqual([[{ analytics: true, preferences: true }, 'banner']])
    expect(api.get()).toMatchObject({ analytics: true, preferences: true, decided: true })
    expect(banner()).toBeNull()
  })

  test('Reject all refuses analytics and preferences with source banner, then goes away', () => {
    const { setCalls } = mount({ analytics: true, preferences: true })
    byText('button', 'Reject all').click()
    expect(setCalls).toEqual([[{ analytics: false, preferences: false }, 'banner']])
    expect(banner()).toBeNull()
  })

  test('after a choice, focus goes back to where it was before the banner took it', () => {
    const { change } = mount({ decided: true })
    const field = document.body.appendChild(document.createElement('input'))
    field.focus()
    change({ decided: false })
    expect(banner()!.contains(document.activeElement)).toBe(true)
    byText<HTMLButtonElement>('button', 'Reject all').focus()
    byText('button', 'Reject all').click()
    expect(document.activeElement).toBe(field)
  })

  test('follows changes made elsewhere: hides when decided by page code, returns when asked again', () => {
    const { change } = mount()
    change({ decided: true })
    expect(banner()).toBeNull()
    // e.g. a new policy revision makes the stored choice void
    change({ decided: false })
    expect(banner()).not.toBeNull()
    expect(document.querySelectorAll('[role="dialog"]')).toHaveLength(1)
  })
})

describe('preference center', () => {
  test('shows Essential locked on, Preferences and Analytics from the current state, each with a <label>', () => {
    mount({ preferences: true, analytics: false })
    openFromBanner()
    const dialog = center()!
    expect(document.getElementById(dialog.getAttribute('aria-labelledby')!)?.textContent).toBe('Privacy preferences')
    expect([checkbox('Essential').checked, checkbox('Essential').disabled]).toEqual([true, true])
    expect([checkbox('Preferences').checked, checkbox('Preferences').disabled]).toEqual([true, false])
    expect([checkbox('Analytics').checked, checkbox('Analytics').disabled]).toEqual([false, false])
    for (const input of dialog.querySelectorAll('input')) expect(input.type).toBe('checkbox')
  })

  test('Save sends the chosen categories with source banner and closes everything', () => {
    const { setCalls } = mount()
    openFromBanner()
    checkbox('Analytics').click()
    expect(checkbox('Analytics').checked).toBe(true)
    byText('button', 'Save', center()!).click()
    expect(setCalls).toEqual([[{ preferences: false, analytics: true }, 'banner']])
    expect(center()).toBeNull()
    expect(banner()).toBeNull()
  })

  test('Cancel saves nothing, closes, keeps the banner and returns focus to the opener', () => {
    const { setCalls } = mount()
    const opener = openFromBanner()
    checkbox('Analytics').click()
    byText('button', 'Cancel', center()!).click()
    expect(setCalls).toEqual([])
    expect(center()).toBeNull()
    expect(banner()).not.toBeNull()
    expect(document.activeElement).toBe(opener)
  })

  test.each([
    ['gpc', 'Your browser sends Global Privacy Control'],
    ['dnt', 'Your browser sends Do Not Track'],
  ] as const)('blockedBy %s: analytics disabled and unchecked, the signal named, and Save leaves analytics alone', (signal, note) => {
    const { setCalls, ui } = mount({ blockedBy: signal, decided: true })
    ui.open()
    const analytics = checkbox('Analytics')
    expect([analytics.checked, analytics.disabled]).toEqual([false, true])
    const visible = byText('small', `${note}, so analytics stays off.`, center()!)
    expect(visible.hidden).toBe(false)
    expect(describedBy(analytics)).toContain(note)
    checkbox('Preferences').click()
    byText('button', 'Save', center()!).click()
    // The disabled box expresses nothing, so no analytics choice is written under the signal.
    expect(setCalls).toEqual([[{ preferences: true }, 'banner']])
  })

  test('under a signal with no analytics choice yet, Save records the unchecked box, as Reject all would, and the banner goes', () => {
    const { setCalls } = mount({ blockedBy: 'gpc', decided: false })
    openFromBanner()
    checkbox('Preferences').click()
    byText('button', 'Save', center()!).click()
    // Preferences alone would leave analytics unchosen, and the banner would ask again on every page.
    expect(setCalls).toEqual([[{ preferences: true, analytics: false }, 'banner']])
    expect(banner()).toBeNull()
  })

  test('no signal note without blockedBy', () => {
    const { ui } = mount({ decided: true })
    ui.open()
    expect(center()!.textContent).not.toMatch(/Global Privacy Control|Do Not Track/)
    expect(checkbox('Analytics').disabled).toBe(false)
  })

  test('a click on a label toggles its checkbox', () => {
    const { ui } = mount({ decided: true })
    ui.open()
    byText('label', 'Analytics', center()!).click()
    expect(checkbox('Analytics').checked).toBe(true)
  })

  test('a click on the backdrop cancels; a click inside the dialog does not', () => {
    const { ui, setCalls } = mount({ decided: true })
    ui.open()
    center()!.querySelector('p')!.click()
    expect(center()).not.toBeNull()
    document.querySelector<HTMLElement>('.atspark-overlay')!.click()
    expect(center()).toBeNull()
    expect(document.querySelector('.atspark-overlay')).toBeNull()
    expect(setCalls).toEqual([])
  })

  test('open() while open only refocuses the one dialog', () => {
    const { ui } = mount({ decided: true })
    ui.open()
    ui.open()
    expect(document.querySelectorAll('[role="dialog"]')).toHaveLength(1)
  })
})

describe('keyboard', () => {
  test('focus moves into the preference center when it opens', () => {
    const { ui } = mount({ decided: true })
    const link = document.body.appendChild(document.createElement('a'))
    link.href = '#privacy'
    link.focus()
    ui.open()
    expect(center()!.contains(document.activeElement)).toBe(true)
  })

  test('Escape closes the preference center and returns focus to what opened it', () => {
    mount()
    const opener = openFromBanner()
    const event = keydown(checkbox('Analytics'), 'Escape')
    expect(event.defaultPrevented).toBe(true)
    expect(center()).toBeNull()
    expect(document.activeElement).toBe(opener)
  })

  test('Escape on the banner does not dismiss it: only a choice does', () => {
    const { setCalls } = mount()
    keydown(byText('button', 'Reject all'), 'Escape')
    expect(banner()).not.toBeNull()
    expect(setCalls).toEqual([])
  })

  test('Tab wraps inside the open preference center, both ways', () => {
    const { ui } = mount({ decided: true })
    ui.open()
    const dialog = center()!
    const first = checkbox('Preferences')
    const last = byText('button', 'Cancel', dialog)
    last.focus()
    expect(keydown(last, 'Tab').defaultPrevented).toBe(true)
    expect(document.activeElement).toBe(first)
    expect(keydown(first, 'Tab', true).defaultPrevented).toBe(true)
    expect(document.activeElement).toBe(last)
    // From the dialog itself (where focus lands on open), Shift+Tab goes to the last control too.
    dialog.focus()
    keydown(dialog, 'Tab', true)
    expect(document.activeElement).toBe(last)
    // In between, the browser moves focus: the trap stays out of the way.
    const save = byText('button', 'Save', dialog)
    save.focus()
    expect(keydown(save, 'Tab').defaultPrevented).toBe(false)
  })

  test('a disabled checkbox is skipped when wrapping (blocked analytics, locked essential)', () => {
    const { ui } = mount({ decided: true, blockedBy: 'gpc' })
    ui.open()
    const last = byText('button', 'Cancel', center()!)
    last.focus()
    keydown(last, 'Tab')
    expect(document.activeElement).toBe(checkbox('Preferences'))
  })
})

describe('Google Consent Mode v2', () => {
  const google = window as Window & { dataLayer?: unknown[]; gtag?: unknown }
  const pushed = () => google.dataLayer!.map((entry) => [...(entry as IArguments)])

  test('with a dataLayer: pushes the default on load and an update on every change, as Arguments objects', () => {
    google.dataLayer = []
    const { change } = mount({ decided: false })
    expect(pushed()).toEqual([
      ['consent', 'default', { analytics_storage: 'denied', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' }],
    ])
    byText('button', 'Accept all').click()
    change({ analytics: false })
    expect(pushed().slice(1)).toEqual([
      ['consent', 'update', { analytics_storage: 'granted' }],
      ['consent', 'update', { analytics_storage: 'denied' }],
    ])
    // gtag.js only reads Arguments objects from the dataLayer, not arrays.
    for (const entry of google.dataLayer!) expect(Object.prototype.toString.call(entry)).toBe('[object Arguments]')
  })

  test('with gtag(): the default reflects a stored grant', () => {
    const calls: unknown[][] = []
    google.gtag = (...args: unknown[]) => calls.push(args)
    mount({ decided: true, analytics: true })
    expect(calls).toEqual([
      ['consent', 'default', { analytics_storage: 'granted', ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' }],
    ])
  })

  test('without Google tags: nothing is defined or pushed', () => {
    mount()
    byText('button', 'Accept all').click()
    expect(google.dataLayer).toBeUndefined()
    expect(google.gtag).toBeUndefined()
  })
})

describe('styles under a strict CSP', () => {
  test('come from an adopted constructable stylesheet: no <style> element, no style attribute', () => {
    const before = new CSSStyleSheet()
    document.adoptedStyleSheets = [before]
    const { ui } = mount()
    openFromBanner()
    expect(document.adoptedStyleSheets[0]).toBe(before)
    const sheet = document.adoptedStyleSheets[1]!
    const selectors = [...sheet.cssRules].map((rule) => (rule as CSSStyleRule).selectorText)
    expect(selectors).toEqual(expect.arrayContaining(['.atspark-banner', '.atspark-overlay', '.atspark-center', '.atspark-c :focus-visible']))
    expect(document.querySelectorAll('style, link[rel="stylesheet"], [style]')).toHaveLength(0)
    ui.close()
    // A second mount on the same document does not adopt the sheet twice.
    mountConsentUi(fakeConsent().api)
    expect(document.adoptedStyleSheets).toHaveLength(2)
  })

  test('are themable through the documented CSS variables, with defaults', () => {
    mount()
    const css = [...document.adoptedStyleSheets[0]!.cssRules].map((rule) => rule.cssText).join('\n')
    for (const name of ['bg', 'fg', 'muted', 'accent', 'accent-fg', 'radius', 'font', 'focus', 'shadow', 'backdrop', 'z'])
      expect(css).toMatch(new RegExp(`var\\(--atspark-${name},`))
  })
})

describe('beside the real consent module (sdk/src/consent.ts)', () => {
  /** A fresh core on a new page under `revision`, with the UI mounted on it. */
  async function page(mode: string, revision: string) {
    document.body.replaceChildren()
    vi.resetModules()
    const core = await import('../consent.js')
    core.configure(mode, revision, 'site-key', RECEIPT_URL)
    mountConsentUi({ get: core.get, set: core.set, onChange: core.onChange })
    return core
  }

  test.each(['opt-in', 'opt-out'])('%s: a new policy revision shows the banner to a visitor who granted analytics, never to one who refused', async (mode) => {
    stubNetwork()
    await page(mode, '1')
    byText('button', 'Accept all').click()
    expect(banner()).toBeNull()
    await page(mode, '1')
    expect(banner()).toBeNull()
    await page(mode, '2')
    expect(banner()).not.toBeNull()
    byText('button', 'Reject all').click()
    expect(banner()).toBeNull()
    const core = await page(mode, '3')
    expect(banner()).toBeNull()
    expect(core.get()).toMatchObject({ analytics: false, decided: true })
  })

  test('GPC with no choice: saving preferences records analytics refused, the banner goes and stays gone on the next page', async () => {
    stubNetwork()
    setNavigator('globalPrivacyControl', true)
    await page('opt-out', '1')
    expect(banner()).not.toBeNull()
    openFromBanner()
    checkbox('Preferences').click()
    byText('button', 'Save', center()!).click()
    expect(banner()).toBeNull()
    expect(consentCookie()!.split('|').slice(1, 3)).toEqual(['0', '0'])
    await page('opt-out', '1')
    expect(banner()).toBeNull()
  })
})
