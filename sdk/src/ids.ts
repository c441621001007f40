// Identifiers: event ids, the analytics anon id (localStorage) and the session id (sessionStorage).

const ANON_KEY = 'atspark_anon'
const SESSION_KEY = 'atspark_session'

/** What the wire accepts as an id; anything else found in storage is replaced. */
const VALID_ID = /^[\w.:-]{1,64}$/

/** Ids kept for this page only when storage is blocked (private modes, sandboxed frames). */
let memory: Record<string, string> = {}

/** RFC 9562 v4 UUID; randomUUID exists only in secure contexts, so fall back to getRandomValues. */
export function uuid(): string {
  return crypto.randomUUID
    ? crypto.randomUUID()
    : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
        (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+c / 4)))).toString(16),
      )
}

function stored(area: 'localStorage' | 'sessionStorage', key: string): string {
  try {
    const storage = window[area]
    const id = storage.getItem(key)
    if (id && VALID_ID.test(id)) return id
    const fresh = uuid()
    storage.setItem(key, fresh)
    return fresh
  } catch {
    memory[key] ||= uuid()
    return memory[key]
  }
}

/** The analytics identifier; callers must hold the analytics grant (the consent gate does). */
export const anonId = (): string => stored('localStorage', ANON_KEY)

/** Random per browser session (tab lifetime). */
export const sessionId = (): string => stored('sessionStorage', SESSION_KEY)

/** Deletes every analytics identifier; called whenever analytics is not granted. */
export function dropIds(): void {
  memory = {}
  try {
    localStorage.removeItem(ANON_KEY)
    sessionStorage.removeItem(SESSION_KEY)
  } catch {}
}
