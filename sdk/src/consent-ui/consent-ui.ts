// Wires the banner and the preference center to the core's consent API, and owns where focus goes.
import { createBanner } from './banner.js'
import type { ConsentApi, ConsentChoice, ConsentState } from './consent-api.js'
import { restoreFocus } from './dom.js'
import { googleConsentMode } from './google-consent-mode.js'
import { createPreferenceCenter } from './preference-center.js'
import { adoptStyles } from './styles.js'

export type ConsentUi = {
  /** Opens the preference center; focus returns to `opener` when it closes. */
  open(opener?: Element | null): void
  close(): void
}

/** Needs <body>. `syncGoogle` is passed in when Google Consent Mode was already given its default before <body> existed. */
export function mountConsentUi(api: ConsentApi, syncGoogle = googleConsentMode()): ConsentUi {
  adoptStyles()
  let banner: HTMLElement | undefined
  let focusBeforeBanner: Element | null = null
  let center: { dialog: HTMLElement; overlay: HTMLElement; opener: Element | null } | undefined

  // The returned state is rendered at once: the UI must not depend on when (or whether) the core notifies.
  const choose = (choice: ConsentChoice) => render(api.set(choice, 'banner'))

  function render(state: ConsentState): void {
    syncGoogle(state)
    if (state.decided) {
      if (!banner) return
      const hadFocus = banner.contains(document.activeElement)
      banner.remove()
      banner = undefined
      if (hadFocus) restoreFocus(focusBeforeBanner)
    } else if (!banner) {
      focusBeforeBanner = document.activeElement
      banner = createBanner({
        acceptAll: () => choose({ analytics: true, preferences: true }),
        rejectAll: () => choose({ analytics: false, preferences: false }),
        openPreferences: open,
      })
      // First in <body>: after its buttons, Tab continues into the page instead of leaving it.
      document.body.prepend(banner)
      if (!center) banner.focus({ preventScroll: true })
    }
  }

  function open(opener: Element | null = document.activeElement): void {
    if (center) {
      center.dialog.focus()
      return
    }
    const { dialog, overlay } = createPreferenceCenter(api.get(), {
      save(choice) {
        close()
        choose(choice)
      },
      cancel: close,
    })
    center = { dialog, overlay, opener }
    document.body.append(overlay)
    dialog.focus({ preventScroll: true })
  }

  function close(): void {
    if (!center) return
    const { overlay, opener } = center
    center = undefined
    overlay.remove()
    restoreFocus(opener)
  }

  api.onChange(() => render(api.get()))
  render(api.get())
  return { open, close }
}
