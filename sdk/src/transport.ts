// Getting a body to ingest: fetch keepalive with retries, or sendBeacon when the page is going away.

/** Attempts after the first; delays are drawn from 0–1 s, 0–2 s, 0–4 s, 0–8 s (full jitter), never below Retry-After. */
export const RETRY = { attempts: 4, baseMs: 1000 } as const

/** Browsers refuse keepalive and beacon bodies over 64 KiB, so larger batches are split before sending. */
export const MAX_BODY_BYTES = 65_536

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
export async function post(url: string, build: () => string | undefined, body = build()): Promise<boolean> {
  for (let attempt = 0; body; attempt++, body = build()) {
    let hintMs = 0
    try {
      const res = await fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit' })
      if (res.status !== 429 && res.status < 500) return false
      hintMs = retryAfterMs(res.headers.get('retry-after'))
    } catch {}
    if (attempt >= RETRY.attempts) return true
    const backoffMs = Math.random() * RETRY.baseMs * 2 ** attempt
    await new Promise((wake) => setTimeout(wake, Math.max(hintMs, backoffMs)))
  }
  return false
}

/** Queues the body with sendBeacon as text/plain (no CORS preflight while unloading); false if the browser refused. */
export function beacon(url: string, body: string): boolean {
  try {
    return navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }))
  } catch {
    return false
  }
}
