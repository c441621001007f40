// The preference center: a modal dialog with one checkbox per category; Tab stays inside, Escape cancels.
import type { ConsentChoice, ConsentState } from './consent-api.js'
import { COPY, SIGNAL_NOTE } from './copy.js'
import { button, el } from './dom.js'
import { trapTab } from './focus-trap.js'

export type PreferenceCenterActions = { save(choice: ConsentChoice): void; cancel(): void }

function category(id: string, name: string, text: string, checked: boolean, disabled: boolean, note?: string) {
  const describedBy = `${id}-text${note ? ` ${id}-note` : ''}`
  const input = el('input', { type: 'checkbox', id, 'aria-describedby': describedBy })
  input.checked = checked
  input.disabled = disabled
  // Only the name labels the box; the longer text and the signal note describe it.
  const detail = el('span', {}, el('label', { for: id }, name), el('small', { id: `${id}-text` }, text))
  if (note) detail.append(el('small', { id: `${id}-note`, class: 'atspark-note' }, note))
  const row = el('div', { class: 'atspark-row' }, input, detail)
  return { input, row }
}

/** Returns the overlay (append it to <body>) and the dialog inside it (focus it). */
export function createPreferenceCenter(state: ConsentState, actions: PreferenceCenterActions) {
  const blocked = state.blockedBy
  const essential = category('atspark-essential', COPY.essential, COPY.essentialText, true, true)
  const preferences = category('atspark-preferences', COPY.preferences, COPY.preferencesText, state.preferences, false)
  const analytics = category('atspark-analytics', COPY.analytics, COPY.analyticsText, !blocked && state.analytics, !!blocked, blocked && SIGNAL_NOTE[blocked])
  // Under DNT/GPC the disabled box leaves a stored analytics choice as it was; with none, Save records what it showed
  // (unchecked), as Reject all would: preferences alone leave analytics unchosen, and the banner would ask again.
  const save = () =>
    actions.save(
      blocked && state.decided ? { preferences: preferences.input.checked } : { preferences: preferences.input.checked, analytics: analytics.input.checked },
    )
  const dialog = el(
    'div',
    {
      class: 'atspark-c atspark-center',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': 'atspark-center-title',
      'aria-describedby': 'atspark-center-text',
      tabindex: '-1',
    },
    el('h2', { id: 'atspark-center-title' }, COPY.centerTitle),
    el('p', { id: 'atspark-center-text' }, COPY.centerText),
    essential.row,
    preferences.row,
    analytics.row,
    el('div', { class: 'atspark-actions' }, button(COPY.save, save), button(COPY.cancel, actions.cancel, true)),
  )
  const overlay = el('div', { class: 'atspark-overlay' }, dialog)
  overlay.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      event.stopPropagation()
      actions.cancel()
    } else trapTab(dialog, event)
  })
  // A click on the backdrop, outside the dialog, cancels like Escape.
  overlay.addEventListener('click', (event) => event.target === overlay && actions.cancel())
  return { overlay, dialog }
}
