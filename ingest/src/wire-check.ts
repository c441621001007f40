import { isEpochMs, isFields, isLabel, isWireEvent, LIMITS, PrivacySignal, type WireBatchShell } from '@atspark/schemas'

/*
 * A hand-tuned check of WireBatchShell for the hot path (events: isWireEvent, shared with the processor in
 * @atspark/schemas): it answers only "valid or not". zod stays the source of truth: whatever this refuses
 * goes through zod for the code and reason, and wire-check.test.ts proves, property by property, that both
 * accept exactly the same inputs.
 */

export { isWireEvent }

const SIGNALS: ReadonlySet<unknown> = new Set(PrivacySignal.options)

function isConsent(v: unknown): boolean {
  if (!isFields(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    if (key === 'a' || key === 'p') {
      if (typeof x !== 'boolean') return false
      required++
    } else if (key === 'r') {
      if (!isLabel(x, 64)) return false
    } else if (key !== 'b' || !SIGNALS.has(x)) return false
  }
  return required === 2
}

/** WireBatchShell.safeParse(v).success: the batch with its events left for isWireEvent. */
export function isBatchShell(v: unknown): v is WireBatchShell {
  if (!isFields(v)) return false
  let required = 0
  for (const key in v) {
    const x = v[key]
    switch (key) {
      case 'v':
        if (x !== 1) return false
        break
      case 'k':
        if (!isLabel(x, 128, 1)) return false
        break
      case 'sa':
        if (!isEpochMs(x)) return false
        break
      case 'c':
        if (!isConsent(x)) return false
        break
      case 'e':
        if (!Array.isArray(x) || x.length < 1 || x.length > LIMITS.eventsPerBatch) return false
        break
      default:
        return false
    }
    required++
  }
  return required === 5
}
