import type { WireBatch, WireEvent } from '@atspark/schemas'

export const CHROME_WINDOWS_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

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
