// Identifiers and the browser storage the SDK uses: one helper, one key per thing, all `atspark_`-prefixed.

/** localStorage: the analytics anon id (only while analytics is granted). */
export const ANON = 'atspark_anon'
/** sessionStorage: the session id (only while analytics is granted). */
export const SESSION = 'atspark_session'
/** localStorage: the host app's user id from identify() (only while analytics is granted). */
export const USER = 'atspark_uid'
/** localStorage: JSON array of undelivered WireEvents (only while analytics is granted). */
export const OFFLINE = 'atspark_q'
/** localStorage: JSON object of preferences (only while preferences is granted). */
export const PREFS = 'atspark_prefs'

/** What the wire accepts as an id; anything else found in storage is replaced. */
const VALID_ID = /^[\w.:-]{1,64}$/

/** Values kept for this page only when storage is blocked (private modes, sandboxed frames). */
const memory: Record<string, string> = {}

/** Refilled per uuid where randomUUID is missing: one getRandomValues call for all digits (each call costs ~4 µs). */
const pool = new Uint8Array(36)

/**
 * RFC 9562 v4 UUID: randomUUID (~3 µs in Chromium) where present; outside secure contexts it is missing, so
 * getRandomValues, once, the digit at offset `o` taking byte `o` (~8 µs; one call per digit cost ~130 µs).
 */
export const uuid = (): string =>
  crypto.randomUUID?.() ||
  (crypto.getRandomValues(pool) &&
    '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c, o: number) => (+c ^ (pool[o]! & (15 >> (+c / 4)))).toString(16)))

type Area = 'localStorage' | 'sessionStorage'

/** Reads `key` (no or a null `value`) or writes it; blocked storage falls back to memory for the page. */
export function store(key: string, value?: string | null, area: Area = 'localStorage'): string | null | undefined {
  try {
    const storage = window[area]
    if (value == null) return storage.getItem(key)
    storage.setItem(key, value)
    return value
  } catch {
    if (value == null) return memory[key]
    memory[key] = value
    return value
  }
}

/** Parses the JSON stored under `key`; null or undefined when absent or unparsable. */
export function storedJson(key: string): unknown {
  try {
    return JSON.parse(store(key)!)
  } catch {}
}

/** Deletes keys from both storages and from memory. */
export function drop(...keys: string[]): void {
  for (const key of keys) {
    delete memory[key]
    try {
      localStorage.removeItem(key)
      sessionStorage.removeItem(key)
    } catch {}
  }
}

function id(key: string, area?: Area): string {
  const found = store(key, undefined, area)
  return found && VALID_ID.test(found) ? found : store(key, uuid(), area)!
}

/** The analytics identifier; callers must hold the analytics grant (the consent gate does). */
export const anonId = (): string => id(ANON)

/** Random per browser session (tab lifetime). */
export const sessionId = (): string => id(SESSION, 'sessionStorage')

/** Deletes every analytics identifier and the offline queue; called whenever analytics is not granted. */
export const dropIds = (): void => drop(ANON, SESSION, USER, OFFLINE)
