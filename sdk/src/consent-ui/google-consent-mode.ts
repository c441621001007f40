// Google Consent Mode v2 for pages that also run Google tags: atSpark's analytics choice drives `analytics_storage`.
// Rule: mapped whenever the page has `window.gtag` or a `window.dataLayer` array at the time of a push; no opt-in flag,
// since a page without Google tags has neither and stays untouched. Ad signals are always denied: this banner asks no ad consent.
// Load this bundle before gtag.js/GTM (after the inline `dataLayer` snippet) so the default precedes the first tag.
import type { ConsentState } from './consent-api.js'

type Gtag = (...args: unknown[]) => void
type GoogleWindow = Window & { gtag?: unknown; dataLayer?: unknown }

function findGtag(win: GoogleWindow): Gtag | undefined {
  if (typeof win.gtag === 'function') return win.gtag as Gtag
  const layer = win.dataLayer
  if (!Array.isArray(layer)) return undefined
  // Google's own shim: gtag.js reads Arguments objects from the dataLayer and ignores plain arrays.
  return function gtag() {
    // biome-ignore lint/complexity/noArguments: the Arguments object itself is what gtag.js expects
    layer.push(arguments)
  }
}

/** Returns a sync function: the first push is `consent default`, later ones `consent update` when analytics changed. */
export function googleConsentMode(win: Window = window): (state: ConsentState) => void {
  let pushed: boolean | undefined
  return (state) => {
    const gtag = findGtag(win)
    if (!gtag || state.analytics === pushed) return
    const analytics_storage = state.analytics ? 'granted' : 'denied'
    if (pushed === undefined)
      gtag('consent', 'default', { analytics_storage, ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied' })
    else gtag('consent', 'update', { analytics_storage })
    pushed = state.analytics
  }
}
