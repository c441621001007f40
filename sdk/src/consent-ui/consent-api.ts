// The contract with the core script's `window.atspark.consent`: a global across two <script>s, so the bundle imports core types only (erased at build).
import type { ConsentChoice, ConsentState } from '../consent.js'

export type { ConsentChoice, ConsentState }

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
