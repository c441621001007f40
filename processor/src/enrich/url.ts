/** Longest path we store; longer ones are almost always generated junk. */
const MAX_PATH = 1024

/**
 * Only web pages are tracked; other schemes (file:, about:, blob:) have no meaningful host
 * and a file: path can name a local user.
 */
function parseWebUrl(u: string | undefined): URL | null {
  if (!u) return null
  let url: URL
  try {
    url = new URL(u)
  } catch {
    return null
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null
}

/** Host (lower case, no port) and path of a page URL; query and fragment are dropped because they carry personal data. */
export function urlParts(u?: string): { host: string; path: string } {
  const url = parseWebUrl(u)
  if (!url) return { host: '', path: '' }
  return { host: url.hostname.toLowerCase(), path: url.pathname.slice(0, MAX_PATH) }
}

/** Host of a referrer URL, the only part we keep; '' when absent or invalid. */
export function referrerHost(r?: string): string {
  return parseWebUrl(r)?.hostname.toLowerCase() ?? ''
}
