import type { WireConsent, WireEvent } from '@atspark/schemas'

/** Why the server refused to store an event; each is counted, none is stored. */
export const DropReason = {
  consent: 'consent',
  dnt: 'dnt',
  gpc: 'gpc',
} as const
export type DropReason = (typeof DropReason)[keyof typeof DropReason]

export interface PrivacyHeaders {
  dnt: string | undefined
  secGpc: string | undefined
}

export interface GateResult {
  kept: WireEvent[]
  dropped: number
  reason: DropReason | undefined
}

/**
 * The server's consent rule, whatever the client claims: every event type is analytics, so
 * events are kept only with an analytics grant and neither `DNT: 1` nor `Sec-GPC: 1` (nor the
 * SDK reporting either signal). GPC is checked first because it is the legally binding signal.
 */
export function enforceConsent(events: WireEvent[], consent: WireConsent, headers: PrivacyHeaders): GateResult {
  const reason = denialReason(consent, headers)
  if (reason === undefined) return { kept: events, dropped: 0, reason }
  return { kept: [], dropped: events.length, reason }
}

function denialReason(consent: WireConsent, headers: PrivacyHeaders): DropReason | undefined {
  if (signals(headers.secGpc) || consent.b === 'gpc') return DropReason.gpc
  if (signals(headers.dnt) || consent.b === 'dnt') return DropReason.dnt
  if (!consent.a) return DropReason.consent
  return undefined
}

/**
 * A `DNT` or `Sec-GPC` value that says 1: any element of its comma-separated list, trimmed. A header sent
 * twice arrives joined (`1, 1` from Node, from fetch's Headers alike) and must still count as the signal.
 */
export function signals(value: string | undefined): boolean {
  if (value === undefined) return false
  if (value === '1') return true
  return value.split(',').some((element) => element.trim() === '1')
}
