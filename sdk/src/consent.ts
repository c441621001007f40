// All consent logic: browser signals, site mode, the stored choice, and the one gate every event passes.
import type { PrivacySignal, SiteMode } from '@atspark/schemas'
import { dropIds, uuid } from './ids.js'

/** What the gate decides for an analytics event: send it, hold it in memory, or drop it. */
export const Gate = { grant: 0, wait: 1, deny: 2 } as const
export type Gate = (typeof Gate)[keyof typeof Gate]

export type ConsentChoice = { analytics?: boolean; preferences?: boolean }

export type ConsentState = {
  analytics: boolean
  preferences: boolean
  mode: SiteMode
  /** The browser signal (DNT/GPC) denying analytics; page code cannot override it. */
  signal?: PrivacySignal
  /** Receipt id of the stored choice; absent until a choice is made. */
  receipt?: string
}

const COOKIE = 'atspark_consent'
const COOKIE_VERSION = '1'
/** 390 days stays within 13 calendar months from any start date (policy: ≤ 13 months). */
const MAX_AGE_DAYS = 390

let mode: SiteMode = 'opt-in'
let revision = ''
/** Last choice written, for pages where the cookie cannot be set (e.g. blocked cookies). */
let written = ''

/** Anything but an explicit 'opt-out' is treated as 'opt-in', the stricter mode. */
export function configure(siteMode?: string, policyRevision?: string): void {
  mode = siteMode === 'opt-out' ? siteMode : 'opt-in'
  revision = policyRevision || ''
}

function signal(): PrivacySignal | undefined {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean }
  return nav.globalPrivacyControl === true ? 'gpc' : nav.doNotTrack === '1' ? 'dnt' : undefined
}

/** Cookie value `1|analytics|preferences|receipt|revision|expiry-ms`; without a valid one, the site mode decides (no receipt). */
function choice(): { a: boolean; p: boolean; id?: string } {
  const match = document.cookie.match(/(?:^|; )atspark_consent=([^;]*)/)
  const f = (match ? match[1]! : written).split('|')
  const byDefault = mode === 'opt-out'
  return f[0] === COOKIE_VERSION && f[4] === encodeURIComponent(revision) && +f[5]! > Date.now() && f[3]
    ? { a: f[1] === '1', p: f[2] === '1', id: f[3] }
    : { a: byDefault, p: byDefault }
}

export function get(): ConsentState {
  const s = signal()
  const c = choice()
  return { analytics: !s && c.a, preferences: c.p, mode, signal: s, receipt: c.id }
}

/** The one gate: every event and every send attempt asks it; anything but `grant` also deletes analytics ids. */
export function gate(): Gate {
  const state = get()
  const decision = state.analytics ? Gate.grant : state.signal || state.receipt ? Gate.deny : Gate.wait
  if (decision !== Gate.grant) dropIds()
  return decision
}

/** Stores the choice (merged with the previous one) under a new receipt id and the current policy revision. */
export function set(next: ConsentChoice): ConsentState {
  const c = choice()
  const a = next.analytics != null ? next.analytics : c.a
  const p = next.preferences != null ? next.preferences : c.p
  written = [COOKIE_VERSION, +a, +p, uuid(), encodeURIComponent(revision), Date.now() + MAX_AGE_DAYS * 864e5].join('|')
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is async and missing in Safari/Firefox
  document.cookie = `${COOKIE}=${written}; max-age=${MAX_AGE_DAYS * 86400}; path=/; samesite=lax${location.protocol === 'https:' ? '; secure' : ''}`
  gate()
  return get()
}
