import type { Envelope, WireBatch, WireEvent } from '@atspark/schemas'
import type { Bus } from './bus.js'

/** A unit-test bus that records what it was given; `failWith` makes publish reject. */
export class RecordingBus implements Bus {
  readonly published: Envelope[] = []
  failWith: Error | undefined
  isReady = true

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    if (this.failWith) throw this.failWith
    this.published.push(...envelopes)
  }
  ready(): boolean {
    return this.isReady
  }
  async close(): Promise<void> {}
}

export function wireEvent(overrides: Partial<WireEvent> = {}): WireEvent {
  return {
    id: crypto.randomUUID(),
    t: 'pageview',
    ts: Date.UTC(2026, 10, 28, 12, 0, 0),
    a: 'anon_1',
    s: 'sess_1',
    u: 'https://app.example.com/dashboards/42?token=secret',
    sw: 1920,
    sh: 1080,
    l: 'en-GB',
    tz: 'Europe/London',
    ...overrides,
  }
}

export function wireBatch(overrides: Partial<WireBatch> = {}): WireBatch {
  return {
    v: 1,
    k: 'pk_test_site',
    sa: Date.UTC(2026, 10, 28, 12, 0, 1),
    c: { a: true, p: false, r: '3' },
    e: [wireEvent()],
    ...overrides,
  }
}
