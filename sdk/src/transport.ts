// Getting a batch to ingest: fetch with retries, or sendBeacon when the page is going away.

/** Attempts after the first; delays grow 1 s, 2 s, 4 s, 8 s (full jitter), never below Retry-After. */
export const RETRY = { attempts: 4, baseMs: 1000, capMs: 60_000 } as const

/** Retry-After in ms (seconds or HTTP date); 0 when absent or unparsable. */
export function retryAfterMs(header: string | null): number {
  const seconds = Number(header)
  return header ? (seconds >= 0 ? seconds * 1000 : Math.max(0, Date.parse(header) - Date.now()) || 0) : 0
}

/**
 * POSTs the JSON `build()` returns. Network errors, 429 and 5xx are retried with the same events
 * (`build` re-stamps sent_at); other statuses are final. `build` returning nothing stops (consent withdrawn).
 */
export async function post(url: string, build: () => string | undefined): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const body = build()
    if (!body) return
    let hintMs = 0
    try {
      const res = await fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', headers: { 'content-type': 'application/json' } })
      if (res.status !== 429 && res.status < 500) return
      hintMs = retryAfterMs(res.headers.get('retry-after'))
    } catch {}
    if (attempt >= RETRY.attempts) return
    const backoffMs = Math.random() * Math.min(RETRY.capMs, RETRY.baseMs * 2 ** attempt)
    await new Promise((wake) => setTimeout(wake, Math.max(hintMs, backoffMs)))
  }
}

/** Queues the body with sendBeacon as text/plain (no CORS preflight while unloading); false if the browser refused. */
export function beacon(url: string, body: string): boolean {
  try {
    return navigator.sendBeacon(url, new Blob([body], { type: 'text/plain' }))
  } catch {
    return false
  }
}
