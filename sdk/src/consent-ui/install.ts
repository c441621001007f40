// The page-facing surface: `window.atsparkConsent.open()/close()` and clicks on `[data-atspark-consent="open"]`.
import { type ConsentUi, mountConsentUi } from './consent-ui.js'
import { googleConsentMode } from './google-consent-mode.js'
import { whenBodyReady, whenCoreReady } from './wait-for-core.js'

export type AtsparkConsent = { open(opener?: Element | null): void; close(): void }

export const OPEN_SELECTOR = '[data-atspark-consent="open"]'

export function installConsentUi(): void {
  const global = window as Window & { atsparkConsent?: Partial<AtsparkConsent> }
  // A second copy of the bundle on the page does nothing, so there is never a second banner.
  const existing = global.atsparkConsent || {}
  if (existing.open) return
  let ui: ConsentUi | undefined
  /** An open() that came before the core: honoured once it is ready. */
  let pending: { opener: Element | null } | undefined

  const open = (opener: Element | null = document.activeElement) => {
    if (ui) ui.open(opener)
    else pending = { opener }
  }
  global.atsparkConsent = Object.assign(existing, {
    open,
    close() {
      pending = undefined
      if (ui) ui.close()
    },
  })

  // Delegated, so links added after load (e.g. by a SPA footer) work too.
  document.addEventListener('click', (event) => {
    const trigger = event.target instanceof Element && event.target.closest(OPEN_SELECTOR)
    if (!trigger) return
    event.preventDefault()
    open(trigger)
  })

  whenCoreReady((api) => {
    // Google's default goes out as soon as the state is known, ahead of Google tags that may run before <body>.
    const syncGoogle = googleConsentMode()
    syncGoogle(api.get())
    whenBodyReady(() => {
      ui = mountConsentUi(api, syncGoogle)
      if (pending) ui.open(pending.opener)
      pending = undefined
    })
  })
}
