// All consent logic: browser signals, site mode, the stored choice, receipts, listeners, preference storage, and the one gate.
import type { ConsentSource, PrivacySignal, SiteMode, WireConsentReceipt } from '@atspark/schemas'
import { drop, dropIds, PREFS, store, storedJson, uuid } from './ids.js'
import { post } from './transport.js'

/** What the gate decides for an analytics event: send it, hold it in memory, or drop it. */
export const Gate = { grant: 0, wait: 1, deny: 2 } as const
export type Gate = (typeof Gate)[keyof typeof Gate]

export type ConsentChoice = { analytics?: boolean; preferences?: boolean }

export type ConsentState = {
  essential: true
  preferences: boolean
  analytics: boolean
  /** The visitor's analytics choice is in force: a refusal (under any policy revision) or a grant under this one. */
  decided: boolean
  /** The browser signal denying analytics; page code cannot override it. GPC wins when both are on. */
  blockedBy?: PrivacySignal
  /** Id of the last receipt the consent cookie holds (for a choice, or for a DNT/GPC signal). */
  receipt?: string
}

export type ConsentListener = (state: ConsentState) => void

/** 390 days stays within 13 calendar months from any start date (policy: ≤ 13 months). */
export const MAX_AGE_MS = 390 * 864e5

let optOut = false
let revision = ''
let siteKey = ''
/** `${endpoint}/v1/consent`; empty until init, and set() does nothing before then. */
let receiptUrl = ''
/** Last cookie value written, for pages where the cookie cannot be set (e.g. blocked cookies). */
let written = ''
const listeners = new Set<ConsentListener>()

/** Called by init(): site mode, policy revision, where receipts go; then the once-per-revision DNT/GPC receipt. */
export function configure(siteMode: SiteMode | string | undefined, policyRevision = '', key: string, url: string): void {
  // Anything but an explicit 'opt-out' is treated as 'opt-in', the stricter mode.
  optOut = siteMode === 'opt-out'
  revision = policyRevision
  siteKey = key
  receiptUrl = url
  const signal = blockedBy()
  const f = fields()
  // Renewed on every visit (same choice and receipt, a fresh expiry), so an active visitor's refusal never lapses;
  // a grant keeps its expiry, so it is asked again at most 13 months after it was given.
  if (f[1] === '0') save(f, Date.now() + MAX_AGE_MS)
  const sent = f[6] || ''
  // Keeps the visitor's choice and its expiry; only adds this signal to those whose receipt left.
  if (url && signal && !sent.includes(signal)) write(f, f[1], f[2], signal, sent + signal)
}

function blockedBy(): PrivacySignal | undefined {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean }
  return nav.globalPrivacyControl === true ? 'gpc' : nav.doNotTrack === '1' ? 'dnt' : undefined
}

/**
 * Cookie `atspark_consent=1|a|p|receipt|revision|expiry-ms|signals`: a and p are '1'/'0', or empty while that
 * category was not chosen (only a DNT/GPC receipt was sent, or only the other category was set); the revision is
 * URI-encoded; signals lists those (dnt, gpc) whose receipt was sent under that revision. Returns the fields of a
 * valid cookie that is in force, else []: a new revision re-asks only visitors who granted analytics, so a
 * refusal holds whatever the revision until the visitor changes it.
 */
function fields(): string[] {
  const f = (document.cookie.match(/(^|; )atspark_consent=([^;]*)/)?.[2] ?? written).split('|')
  const other = f[4] !== encodeURIComponent(revision)
  // Signals receipted under another revision (kept with a refusal carried over) are due again under this one.
  if (other) f[6] = ''
  return f[0] === '1' && (f[1] === '0' || !other) && +f[5]! > Date.now() && f[3] ? f : []
}

export function get(): ConsentState {
  const [, a, p, receipt] = fields()
  const signal = blockedBy()
  return {
    essential: true,
    preferences: p ? p === '1' : optOut,
    analytics: !signal && (a ? a === '1' : optOut),
    decided: !!a,
    blockedBy: signal,
    receipt,
  }
}

/** The one gate: every event and every send attempt asks it; anything but `grant` also deletes analytics ids and storage. */
export function gate(): Gate {
  const state = get()
  const decision = state.analytics ? Gate.grant : state.blockedBy || state.decided ? Gate.deny : Gate.wait
  if (decision) dropIds()
  return decision
}

/** Writes the cookie fields `f` (1, a, p, receipt, revision, expiry, signals) to expire at `until`. */
function save(f: unknown[], until: number): void {
  f[5] = until
  written = f.join('|')
  // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is async and missing in Safari/Firefox
  document.cookie = `atspark_consent=${written}; max-age=${((until - Date.now()) / 1e3) | 0}; path=/; samesite=lax${location.protocol === 'https:' ? '; secure' : ''}`
}

/**
 * Stores the cookie under a new receipt id and sends that receipt (essential: whatever analytics, DNT or
 * GPC say). A signal receipt keeps the expiry of the fields `f` it extends; a choice starts a new one.
 * An unchosen category (undefined) stays empty.
 */
function write(f: string[], a: unknown, p: unknown, src: ConsentSource, signals = f[6]): ConsentState {
  const ts = Date.now()
  const id = uuid()
  save([1, a, p, id, encodeURIComponent(revision), 0, signals], +f[5]! || ts + MAX_AGE_MS)
  const state = get()
  // The receipt records what is in force (analytics false under DNT/GPC) and carries no analytics identifier.
  void post(receiptUrl, () =>
    JSON.stringify({ v: 1, k: siteKey, id, ts, sa: Date.now(), a: state.analytics, p: state.preferences, src, r: revision } satisfies WireConsentReceipt),
  )
  return state
}

/**
 * Records the visitor's choice (merged with the stored one) under a new receipt id, sends the receipt,
 * applies a refusal at once (analytics ids and storage, or preference storage, deleted) and tells the
 * listeners. Ignored before init.
 */
export function set(choice: ConsentChoice, source?: 'banner' | 'api'): ConsentState {
  if (!receiptUrl) return get()
  const f = fields()
  // Only `true` grants; a category not mentioned keeps the stored choice, or stays unchosen (the site mode's
  // default applies): setting preferences alone never changes analytics.
  const pick = (value: unknown, i: number) => (value == null ? f[i] : +(value === true))
  const state = write([], pick(choice?.analytics, 1), pick(choice?.preferences, 2), source === 'banner' ? source : 'api', f[6])
  gate()
  if (!state.preferences) drop(PREFS)
  for (const listener of listeners) {
    try {
      listener(state)
    } catch {}
  }
  return state
}

/** Calls `listener` with the new state after every set(); returns the unsubscribe function. */
export function onChange(listener: ConsentListener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/** Preference storage (localStorage `atspark_prefs`, a JSON object): used only while `preferences` is granted. */
export const prefs = {
  /** The stored value; undefined (and the storage deleted) unless `preferences` is granted. */
  get(key: string): unknown {
    return ((get().preferences ? storedJson(PREFS) : drop(PREFS)) as Record<string, unknown> | undefined)?.[key]
  },
  /** False, and nothing written, unless `preferences` is granted. */
  set(key: string, value: unknown): boolean {
    return get().preferences && !!store(PREFS, JSON.stringify({ ...(storedJson(PREFS) as object), [key]: value }))
  },
}
