/** Longest path we store; longer ones are almost always generated junk. */
const MAX_PATH = 1024

/**
 * URLs the WHATWG parser would return unchanged in host (but for case) and path: lower-case
 * http(s), a dotted name whose last label starts with a letter (so never an IPv4 form), an optional
 * port, and a path of characters it never percent-encodes. Everything else, including `xn--`
 * labels, dot segments and `%2e`, goes to `new URL` (url.test.ts checks both agree on a fuzzed corpus).
 */
const SIMPLE_URL =
  /^https?:\/\/((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?::(\d{1,5}))?(\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*)?(?:[?#][\s\S]*)?$/
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)|%2e/i
const MAX_PORT = 65_535

type Parts = { host: string; path: string }

const NONE: Parts = Object.freeze({ host: '', path: '' })

/** The fast path: undefined when the URL needs the full parser. */
function simpleParts(u: string): Parts | undefined {
  const m = SIMPLE_URL.exec(u)
  if (!m) return undefined
  const host = m[1] ?? ''
  const path = m[3] ?? '/'
  if (host.toLowerCase().includes('xn--') || DOT_SEGMENT.test(path)) return undefined
  if (m[2] !== undefined && Number(m[2]) > MAX_PORT) return undefined
  return { host: host.toLowerCase(), path }
}

/**
 * Only web pages are tracked; other schemes (file:, about:, blob:) have no meaningful host
 * and a file: path can name a local user.
 */
function parseWebUrl(u: string): Parts {
  let url: URL
  try {
    url = new URL(u)
  } catch {
    return NONE
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return NONE
  return { host: url.hostname.toLowerCase(), path: url.pathname }
}

function parts(u: string | undefined): Parts {
  if (!u) return NONE
  // `new URL` costs ~1 µs per call; most page URLs take the regex path instead.
  return simpleParts(u) ?? parseWebUrl(u)
}

/** Host (lower case, no port) and path of a page URL; query and fragment are dropped because they carry personal data. */
export function urlParts(u?: string): { host: string; path: string } {
  const p = parts(u)
  return { host: p.host, path: p.path.slice(0, MAX_PATH) }
}

/** Host of a referrer URL, the only part we keep; '' when absent or invalid. */
export function referrerHost(r?: string): string {
  return parts(r).host
}
