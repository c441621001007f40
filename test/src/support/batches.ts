import type { WireBatch, WireEvent } from '@atspark/schemas'

export const CHROME_WINDOWS_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
/** Headless Chrome on Linux: enrichment marks it a bot. */
export const HEADLESS_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36'
/** Mobile Safari on an iPhone. */
export const IPHONE_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1'

export function event(overrides: Partial<WireEvent> = {}): WireEvent {
  return {
    id: crypto.randomUUID(),
    t: 'pageview',
    ts: Date.now() - 1000,
    a: 'anon_e2e',
    s: 'sess_e2e',
    u: 'https://app.example.com/reports/7?email=someone@example.com#top',
    r: 'https://www.google.com/search?q=atspark',
    sw: 1920,
    sh: 1080,
    l: 'en-GB',
    tz: 'Europe/London',
    ...overrides,
  }
}

export function batch(events: WireEvent[], overrides: Partial<WireBatch> = {}): WireBatch {
  return { v: 1, k: 'pk_demo', sa: Date.now(), c: { a: true, p: false, r: '1' }, e: events, ...overrides }
}

export interface PostOptions {
  origin?: string
  headers?: Record<string, string>
  /** sendBeacon posts text/plain; fetch posts JSON. */
  beacon?: boolean
}

/** Posts a batch the way the built SDK does: fetch with JSON, or a text/plain beacon body. */
export async function post(ingest: string, body: unknown, opts: PostOptions = {}): Promise<Response> {
  return fetch(`${ingest}/v1/batch`, {
    method: 'POST',
    headers: {
      'content-type': opts.beacon ? 'text/plain;charset=UTF-8' : 'application/json',
      'user-agent': CHROME_WINDOWS_UA,
      ...(opts.origin === undefined ? {} : { origin: opts.origin }),
      ...opts.headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}

export interface LoadResult {
  /** Event ids of batches answered 202. */
  acked: string[]
  statuses: Map<number, number>
  /** Per request: when it was sent and what came back (0 for a network error). */
  requests: { at: number; status: number; ids: string[] }[]
}

/** Posts `total` events in batches with bounded concurrency, recording every answer; never throws on a refused batch. */
export async function sendLoad(
  ingest: string,
  total: number,
  /** `newEvent`: how each event is made (default `event()`), e.g. from a seeded generator. */
  options: { batchSize?: number; concurrency?: number; writeKey?: string; origin: string; pauseMs?: number; newEvent?: () => WireEvent },
): Promise<LoadResult> {
  const batchSize = options.batchSize ?? 50
  const result: LoadResult = { acked: [], statuses: new Map(), requests: [] }
  let next = 0
  const worker = async () => {
    while (next < total) {
      const count = Math.min(batchSize, total - next)
      next += count
      const events = Array.from({ length: count }, options.newEvent ?? (() => event()))
      const ids = events.map((e) => e.id)
      const at = Date.now()
      let status = 0
      try {
        const res = await post(ingest, batch(events, { k: options.writeKey ?? 'pk_demo' }), { origin: options.origin })
        status = res.status
        await res.arrayBuffer()
      } catch {
        status = 0
      }
      result.statuses.set(status, (result.statuses.get(status) ?? 0) + 1)
      result.requests.push({ at, status, ids })
      if (status === 202) result.acked.push(...ids)
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs))
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker))
  return result
}
