// Test-only: a fake of the core's `atspark.consent` that behaves like the contract in consent-api.ts and records calls.
import type { ConsentApi, ConsentChoice, ConsentState } from './consent-api.js'

export function fakeConsent(initial: Partial<ConsentState> = {}) {
  let state: ConsentState = { essential: true, preferences: false, analytics: false, decided: false, ...initial }
  const listeners = new Set<(state: ConsentState) => void>()
  const setCalls: [ConsentChoice, string | undefined][] = []
  /** A change made outside the UI (page code, another tab, a new policy revision). */
  const change = (next: Partial<ConsentState>) => {
    state = { ...state, ...next }
    // Like the core: a browser signal denies analytics whatever was chosen.
    if (state.blockedBy) state.analytics = false
    for (const listener of listeners) listener({ ...state })
    return { ...state }
  }
  const api: ConsentApi = {
    get: () => ({ ...state }),
    set(choice, source) {
      setCalls.push([choice, source])
      // Like the core: `decided` is about analytics, so preferences alone leave it as it was.
      const next: Partial<ConsentState> = {}
      if (choice.analytics !== undefined) Object.assign(next, { analytics: choice.analytics, decided: true })
      if (choice.preferences !== undefined) next.preferences = choice.preferences
      return change(next)
    },
    onChange(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
  return { api, setCalls, change, listeners }
}

export function keydown(target: Element, key: string, shiftKey = false): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, shiftKey, bubbles: true, cancelable: true })
  target.dispatchEvent(event)
  return event
}

/** The element a test expects by its visible text. */
export function byText<T extends HTMLElement = HTMLElement>(selector: string, text: string, root: ParentNode = document): T {
  const found = [...root.querySelectorAll<T>(selector)].find((node) => node.textContent === text)
  if (!found) throw new Error(`no ${selector} with text "${text}"`)
  return found
}
