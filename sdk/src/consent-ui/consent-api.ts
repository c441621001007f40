// The contract with the core script's `window.atspark.consent`: a global across two <script>s, so the bundle imports no core code.
import type { PrivacySignal } from '@atspark/schemas'

export type ConsentState = {
  essential: true
  preferences: boolean
  analytics: boolean
  /** False until the visitor chose (or the policy revision changed since). */
  decided: boolean
  /** The browser signal denying analytics, which no choice here can override. */
  blockedBy?: PrivacySignal
}

export type ConsentChoice = { analytics?: boolean; preferences?: boolean }

export type ConsentApi = {
  get(): ConsentState
  set(choice: ConsentChoice, source?: 'banner' | 'api'): ConsentState
  onChange(listener: (state: ConsentState) => void): () => void
}

/** The core's consent API once it is usable; the snippet's stub (queue `q`, no `consent.get`) does not count. */
export function findConsentApi(win: Window): ConsentApi | undefined {
  // No optional chaining here or elsewhere: at the ES2019 target it transpiles to bytes the budget does not have.
  const core = (win as Window & { atspark?: { q?: unknown; consent?: Partial<ConsentApi> } }).atspark
  const consent = core && !core.q && core.consent
  return consent && typeof consent.get === 'function' && typeof consent.set === 'function' && typeof consent.onChange === 'function'
    ? (consent as ConsentApi)
    : undefined
}
