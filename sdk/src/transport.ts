// Getting a body to ingest: fetch keepalive with retries, or sendBeacon when the page is going away.

/** Attempts after the first; delays are drawn from 0–1 s, 0–2 s, 0–4 s, 0–8 s (full jitter), never below Retry-After. */
export const RETRY = { attempts: 4, baseMs: 1000 } as const

/** Browsers refuse keepalive and beacon bodies over 64 KiB, so larger batches are split before sending. */
export const MAX_BODY_BYTES = 65_536

/** UTF-16 length of the bodies this page has in flight. */
let inFlight = 0

/** Retry-After in ms from seconds or an HTTP date; 0 or less (no wait) when absent, past or unparsable. */
export const retryAfterMs = (header: string | null): number =>
  +header! >= 0 ? +header! * 1000 : Date.parse(header!) - Date.now() || 0

/**
 * POSTs what `build()` returns with keepalive and no credentials. Network errors, 429 and 5xx are
 * retried with the same content (`build` re-stamps sent_at); other statuses are final. `build`
 * returning nothing stops (consent withdrawn). Resolves true only when every retry failed.
 * No content-type header: text/plain (like sendBeacon) needs no CORS preflight; the body is JSON.
 * `body` is the first attempt's, when the caller has just built it (a batch costs ~50 µs to serialise).
 */
export async function post(url: string, build: () => string | false | undefined, body = build()): Promise<boolean> {
  for (let attempt = 0; body; attempt++, body = build()) {
    let hintMs = 0
    // Keepalive while all bodies in flight fit the page's 64 KiB keepalive budget (over it, fetch fails at once): a
    // receipt still fits beside a batch. The rest go without, and leave() keeps batches still in flight for the next
    // load. Counted in UTF-16 units: a body with other than ASCII may still be over, and is then retried.
    inFlight += body.length
    try {
      const res = await fetch(url, { method: 'POST', body, keepalive: inFlight <= MAX_BODY_BYTES, credentials: 'omit' }).finally(
        () => (inFlight -= (body as string).length),
      )
      // Unread, the answer holds its body's share of the page's 64 KiB keepalive budget until GC: ~10 batches in, fetch and sendBeacon failed.
      void res.body?.cancel()
      if (res.status !== 429 && res.status < 500) return false
      hintMs = retryAfterMs(res.headers.get('retry-after'))
    } catch {}
    if (attempt >= RETRY.attempts) return true
    await new Promise((wake) => setTimeout(wake, Math.max(hintMs, Math.random() * RETRY.baseMs * 2 ** attempt)))
  }
  return false
}

/**
 * Queues the body with sendBeacon; a string goes as text/plain;charset=UTF-8, like fetch's, so no CORS preflight while
 * unloading (a Blob costs ~0.3 ms more in Chromium). Falsy if the browser refused or lacks it.
 */
export function beacon(url: string, body: string): boolean | undefined {
  try {
    return navigator.sendBeacon(url, body)
  } catch {}
}
