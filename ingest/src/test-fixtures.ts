import type { BusMessage, Envelope, WireBatch, WireConsentReceipt, WireEvent } from '@atspark/schemas'
import type { Bus, IpKeyring } from '@atspark/runtime'

/** A fixed keyring for unit tests; real ones come from ATSPARK_IP_KEYS or a keys file. */
export const TEST_IP_KEYRING: IpKeyring = { active: 'test', keys: new Map([['test', Buffer.alloc(32, 0x11)]]) }

/** A unit-test bus that records what it was given; `failWith` makes publish reject. */
export class RecordingBus implements Bus {
  readonly published: BusMessage[] = []
  failWith: Error | undefined
  isReady = true

  async publish(messages: readonly BusMessage[]): Promise<void> {
    if (this.failWith) throw this.failWith
    this.published.push(...messages)
  }

  /** The event envelopes published, in order. */
  get envelopes(): Envelope[] {
    return this.published.filter((m): m is Envelope => m.kind === 'events')
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

export function wireReceipt(overrides: Partial<WireConsentReceipt> = {}): WireConsentReceipt {
  return {
    v: 1,
    k: 'pk_test_site',
    id: crypto.randomUUID(),
    ts: Date.UTC(2026, 10, 28, 12, 0, 0),
    sa: Date.UTC(2026, 10, 28, 12, 0, 1),
    a: false,
    p: true,
    src: 'banner',
    r: '3',
    ...overrides,
  }
}
