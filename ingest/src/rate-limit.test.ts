import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createIngestApp } from './app.js'
import { compileTrust, BusUnavailableError, createLogger, addressKey, TenantDirectory, TokenBuckets } from '@atspark/runtime'
import { createIngestMetrics, type IngestMetrics } from './metrics.js'
import { RateLimits } from './rate-limit.js'
import { RecordingBus, TEST_IP_KEYRING, wireBatch, wireEvent, wireReceipt } from './test-fixtures.js'

const ORIGIN = 'https://app.example.com'
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: 'acme',
      name: 'Acme',
      sites: [
        { id: 'web', write_key: 'pk_noisy_site', allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
        { id: 'docs', write_key: 'pk_quiet_site', allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
      ],
    },
  ],
})

function setup(options: Partial<ConstructorParameters<typeof RateLimits>[0]> = {}, extra: { maxInFlight?: number; bus?: RecordingBus } = {}) {
  let clock = 0
  const bus = extra.bus ?? new RecordingBus()
  const metrics = createIngestMetrics(new Registry())
  const rateLimits = new RateLimits(
    { keyRps: 0, keyBurst: 1, keyAddressShare: 1, addressRps: 0, addressBurst: 1, addressExempt: [], maxTracked: 1000, ...options },
    () => clock,
  )
  const app = createIngestApp({
    tenants: () => tenants,
    bus,
    // Only 10.0.0.1 is a trusted proxy: its X-Forwarded-For is believed, nobody else's.
    trust: compileTrust(['10.0.0.1']),
    ipKeyring: () => TEST_IP_KEYRING,
    metrics,
    logger: createLogger('rate-limit-test', 'silent'),
    rateLimits,
    ...(extra.maxInFlight === undefined ? {} : { maxInFlight: extra.maxInFlight }),
  })
  const post = (writeKey: string, peer: string, headers: Record<string, string> = {}, body?: unknown) =>
    app.request(
      '/v1/batch',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
        body: JSON.stringify(body ?? wireBatch({ k: writeKey, e: [wireEvent(), wireEvent()] })),
      },
      { incoming: { socket: { remoteAddress: peer } } },
    )
  return { app, bus, metrics, post, advance: (ms: number) => (clock += ms) }
}

async function counter(metrics: IngestMetrics, name: 'events' | 'requests' | 'rateLimited'): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const v of (await metrics[name].get()).values) out[Object.values(v.labels).join('|')] = v.value
  return out
}

describe('TokenBuckets', () => {
  it('allows the burst, then the sustained rate, and says how long to wait', () => {
    let now = 0
    const buckets = new TokenBuckets({ ratePerSecond: 2, burst: 3, maxKeys: 10 }, () => now)
    expect([1, 2, 3].map(() => buckets.take('k').ok)).toEqual([true, true, true])
    expect(buckets.take('k')).toEqual({ ok: false, retryAfterMs: 500 })
    now += 500
    expect(buckets.take('k').ok).toBe(true)
    // Idle for long: refills to the burst, never beyond.
    now += 60_000
    expect([1, 2, 3, 4].map(() => buckets.take('k').ok)).toEqual([true, true, true, false])
  })

  it('keeps at most maxKeys buckets', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1, maxKeys: 100 }, () => 0)
    for (let i = 0; i < 1000; i++) buckets.take(`k${i}`)
    expect(buckets.size).toBe(100)
  })
})

describe('addressKey', () => {
  it('keys IPv4 by address and IPv6 by its /64; mapped IPv4 is IPv4', () => {
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9')
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9')
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:ffff:1:2:3'))
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'))
    expect(addressKey('not an address')).toBe('invalid')
  })
})

describe('rate limits at the edge', () => {
  it('answers 429 + Retry-After naming the write-key limit, while another key keeps going', async () => {
    const t = setup({ keyRps: 1, keyBurst: 2 })
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push((await t.post('pk_noisy_site', '203.0.113.1')).status)
    expect(statuses).toEqual([202, 202, 429, 429, 429])
    const refused = await t.post('pk_noisy_site', '203.0.113.1')
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ error: 'rate_limited', limit: 'write_key' })
    expect((await t.post('pk_quiet_site', '203.0.113.1')).status).toBe(202)
    t.advance(1000)
    expect((await t.post('pk_noisy_site', '203.0.113.1')).status).toBe(202)
    expect(await counter(t.metrics, 'rateLimited')).toEqual({ write_key: 4 })
    expect(await counter(t.metrics, 'requests')).toEqual({ '202|accepted': 4, '429|rate_limited': 4 })
    // Every event of a refused batch is counted once, as dropped_rate_limited.
    expect(await counter(t.metrics, 'events')).toEqual({ accepted: 8, dropped_rate_limited: 8 })
    expect((await t.metrics.eventsReceived.get()).values[0]?.value).toBe(16)
  })

  it('limits per client address before reading the body, and a spoofed X-Forwarded-For does not escape it', async () => {
    const t = setup({ addressRps: 1, addressBurst: 2 })
    const fromUntrusted = []
    // An untrusted peer rotating X-Forwarded-For is still one address: its socket's.
    for (let i = 0; i < 4; i++) fromUntrusted.push((await t.post('pk_noisy_site', '198.51.100.7', { 'x-forwarded-for': `192.0.2.${i}` })).status)
    expect(fromUntrusted).toEqual([202, 202, 429, 429])
    const refused = await t.post('pk_noisy_site', '198.51.100.7')
    expect(await refused.json()).toMatchObject({ error: 'rate_limited', limit: 'client_address' })
    expect(refused.headers.get('retry-after')).toBe('1')
    // Behind the trusted proxy, X-Forwarded-For names the client: two clients, two buckets.
    const viaProxy = async (client: string) => (await t.post('pk_noisy_site', '10.0.0.1', { 'x-forwarded-for': client })).status
    expect([await viaProxy('192.0.2.50'), await viaProxy('192.0.2.50'), await viaProxy('192.0.2.50')]).toEqual([202, 202, 429])
    expect(await viaProxy('192.0.2.51')).toBe(202)
    // The proxy's own address is not what gets limited.
    expect(await viaProxy('192.0.2.52')).toBe(202)
    // Refused before the body was read: no event was counted for them.
    expect(await counter(t.metrics, 'rateLimited')).toEqual({ client_address: 4 })
    expect(await counter(t.metrics, 'events')).toEqual({ accepted: 12 })
  })

  it('keeps one bucket per client whatever port the trusted proxy writes into X-Forwarded-For', async () => {
    const t = setup({ addressRps: 1, addressBurst: 2 })
    const ports = ['203.0.113.77:4711', '203.0.113.77:4712', '203.0.113.77:4713', '[2001:db8:5:5::1]:443', '[2001:db8:5:5::2]:444', '[2001:db8:5:5::3]']
    const statuses = []
    for (const xff of ports) statuses.push((await t.post('pk_noisy_site', '10.0.0.1', { 'x-forwarded-for': xff })).status)
    expect(statuses).toEqual([202, 202, 429, 202, 202, 429])
  })

  it('skips exempt addresses', async () => {
    const t = setup({ addressRps: 1, addressBurst: 1, addressExempt: ['loopback'] })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await t.post('pk_noisy_site', '127.0.0.1')).status)
    expect(statuses).toEqual([202, 202, 202])
    expect((await t.post('pk_noisy_site', '198.51.100.1')).status).toBe(202)
    expect((await t.post('pk_noisy_site', '198.51.100.1')).status).toBe(429)
  })
})

describe('what a write key pays for', () => {
  const refusedBatch = (k: string, c: { a: boolean; p: boolean; b?: 'dnt' | 'gpc' }) => wireBatch({ k, c, e: [wireEvent(), wireEvent()] })

  it('charges nothing for batches that store nothing: refused by consent, DNT, GPC or wholly invalid', async () => {
    const t = setup({ keyRps: 1, keyBurst: 2, addressRps: 0 })
    const answers: number[] = []
    // Twenty addresses behind the trusted proxy, each sending refused batches as fast as it likes.
    for (let i = 0; i < 20; i++) {
      const via = { 'x-forwarded-for': `198.51.100.${i + 1}` }
      answers.push((await t.post('pk_noisy_site', '10.0.0.1', via, refusedBatch('pk_noisy_site', { a: false, p: false }))).status)
      answers.push((await t.post('pk_noisy_site', '10.0.0.1', { ...via, dnt: '1' })).status)
      answers.push((await t.post('pk_noisy_site', '10.0.0.1', via, refusedBatch('pk_noisy_site', { a: true, p: true, b: 'gpc' }))).status)
      answers.push((await t.post('pk_noisy_site', '10.0.0.1', via, wireBatch({ k: 'pk_noisy_site', e: [{ ...wireEvent(), id: 'nope' }] }))).status)
    }
    expect(new Set(answers)).toEqual(new Set([202, 400]))
    expect(answers.filter((s) => s === 400)).toHaveLength(20)
    // The site's whole burst is still there for visitors who granted.
    const granted = [await t.post('pk_noisy_site', '203.0.113.1'), await t.post('pk_noisy_site', '203.0.113.2'), await t.post('pk_noisy_site', '203.0.113.3')]
    expect(granted.map((r) => r.status)).toEqual([202, 202, 429])
    expect(await counter(t.metrics, 'rateLimited')).toEqual({ write_key: 1 })
    expect(t.bus.envelopes.flatMap((e) => e.events)).toHaveLength(4)
  })

  it('gives one address only its share of a key, and the key refuses nobody else because of it', async () => {
    // Share 0.2 of a burst of 10 at 10/s: 2 at once, then 2/s, per (key, address).
    const t = setup({ keyRps: 10, keyBurst: 10, keyAddressShare: 0.2 })
    const hog: number[] = []
    for (let i = 0; i < 6; i++) hog.push((await t.post('pk_noisy_site', '203.0.113.9')).status)
    expect(hog).toEqual([202, 202, 429, 429, 429, 429])
    const refused = await t.post('pk_noisy_site', '203.0.113.9')
    expect(await refused.json()).toMatchObject({ error: 'rate_limited', limit: 'key_address' })
    expect(refused.headers.get('retry-after')).toBe('1')
    // Its refused requests spent nothing of the key: four more addresses get their two each (2 + 8 = the burst of 10).
    for (let a = 1; a <= 4; a++) {
      expect([(await t.post('pk_noisy_site', `198.51.100.${a}`)).status, (await t.post('pk_noisy_site', `198.51.100.${a}`)).status]).toEqual([202, 202])
    }
    expect(await (await t.post('pk_noisy_site', '198.51.100.5')).json()).toMatchObject({ limit: 'write_key' })
    // The share is per key: the same address still has its share of another site.
    expect((await t.post('pk_quiet_site', '203.0.113.9')).status).toBe(202)
    // And it refills at its share of the key's rate: 2/s.
    t.advance(500)
    expect((await t.post('pk_noisy_site', '203.0.113.9')).status).toBe(202)
    expect(await counter(t.metrics, 'rateLimited')).toEqual({ key_address: 5, write_key: 1 })
  })

  it('gives the share back when the key itself refuses, so a 429 costs the address nothing', async () => {
    // Key: burst 2 at 1/s; share 0.5: burst 1 at 0.5/s per address.
    const t = setup({ keyRps: 1, keyBurst: 2, keyAddressShare: 0.5 })
    expect((await t.post('pk_noisy_site', '198.51.100.1')).status).toBe(202)
    expect((await t.post('pk_noisy_site', '198.51.100.2')).status).toBe(202)
    expect(await (await t.post('pk_noisy_site', '198.51.100.3')).json()).toMatchObject({ limit: 'write_key' })
    // A second later the key has a token again; .3's share must still be whole (half of it had it been spent).
    t.advance(1000)
    expect((await t.post('pk_noisy_site', '198.51.100.3')).status).toBe(202)
  })

  it('treats an IPv6 /64 as one address for the share, and skips it for exempt addresses', async () => {
    const t = setup({ keyRps: 10, keyBurst: 10, keyAddressShare: 0.1, addressExempt: ['127.0.0.1'] })
    expect([(await t.post('pk_noisy_site', '2001:db8:1:2::1')).status, (await t.post('pk_noisy_site', '2001:db8:1:2::2')).status]).toEqual([202, 429])
    // An untrusted local proxy makes every visitor one address: exempt from the address limit, so from its share too.
    const local: number[] = []
    for (let i = 0; i < 5; i++) local.push((await t.post('pk_noisy_site', '127.0.0.1')).status)
    expect(local).toEqual([202, 202, 202, 202, 202])
  })

  it('charges receipts, which are stored, to the key and the address share', async () => {
    const t = setup({ keyRps: 10, keyBurst: 10, keyAddressShare: 0.1 })
    const receipt = (peer: string) =>
      t.app.request(
        '/v1/consent',
        { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN }, body: JSON.stringify(wireReceipt({ k: 'pk_noisy_site' })) },
        { incoming: { socket: { remoteAddress: peer } } },
      )
    expect([(await receipt('198.51.100.1')).status, (await receipt('198.51.100.1')).status]).toEqual([202, 429])
    expect((await receipt('198.51.100.2')).status).toBe(202)
  })
})

describe('overload at the edge', () => {
  it('answers 503 + Retry-After past the in-flight bound instead of queueing', async () => {
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const bus = new RecordingBus()
    const publish = bus.publish.bind(bus)
    bus.publish = async (m) => {
      await held
      return publish(m)
    }
    const t = setup({}, { maxInFlight: 2, bus })
    const first = [t.post('pk_noisy_site', '203.0.113.1'), t.post('pk_noisy_site', '203.0.113.2')]
    await new Promise((r) => setTimeout(r, 20))
    const shed = await t.post('pk_noisy_site', '203.0.113.3')
    expect(shed.status).toBe(503)
    expect(shed.headers.get('retry-after')).toBe('1')
    expect(await shed.json()).toMatchObject({ error: 'overloaded' })
    release()
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([202, 202])
    expect((await t.post('pk_noisy_site', '203.0.113.3')).status).toBe(202)
    expect(await counter(t.metrics, 'requests')).toEqual({ '202|accepted': 3, '503|overloaded': 1 })
  })

  it('puts Retry-After on every 503 and counts the events of a refused batch as dropped_unavailable', async () => {
    const bus = new RecordingBus()
    bus.failWith = new BusUnavailableError('down', { retryAfterSeconds: 3 })
    const t = setup({}, { bus })
    const down = await t.post('pk_noisy_site', '203.0.113.1')
    expect(down.status).toBe(503)
    expect(down.headers.get('retry-after')).toBe('3')
    const { BackpressureError } = await import('@atspark/runtime')
    bus.failWith = new BackpressureError(10, 10)
    const full = await t.post('pk_noisy_site', '203.0.113.1')
    expect(full.status).toBe(503)
    expect(full.headers.get('retry-after')).toBe('1')
    expect(await counter(t.metrics, 'events')).toEqual({ dropped_unavailable: 4 })
    expect(await counter(t.metrics, 'requests')).toEqual({ '503|bus_unavailable': 1, '503|backpressure': 1 })
  })
})
