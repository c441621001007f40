// The first-visit banner: a non-modal dialog at the bottom of the page, Accept and Reject equally prominent.
import { COPY } from './copy.js'
import { button, el } from './dom.js'

export type BannerActions = { acceptAll(): void; rejectAll(): void; openPreferences(opener: HTMLElement): void }

export function createBanner(actions: BannerActions): HTMLElement {
  const preferences = button(COPY.preferences, () => actions.openPreferences(preferences), true)
  return el(
    'div',
    {
      class: 'atspark-c atspark-banner',
      role: 'dialog',
      'aria-modal': 'false',
      'aria-labelledby': 'atspark-banner-title',
      'aria-describedby': 'atspark-banner-text',
      tabindex: '-1',
    },
    el('h2', { id: 'atspark-banner-title' }, COPY.bannerTitle),
    el('p', { id: 'atspark-banner-text' }, COPY.bannerText),
    el('div', { class: 'atspark-actions' }, button(COPY.acceptAll, actions.acceptAll), button(COPY.rejectAll, actions.rejectAll), preferences),
  )
}
