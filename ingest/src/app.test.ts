import { Registry } from 'prom-client'
import { beforeEach, describe, expect, it } from 'vitest'
import { createIngestApp } from './app.js'
import { compileTrust, openIp, createLogger, TenantDirectory } from '@atspark/runtime'
import { createIngestMetrics, type IngestMetrics } from './metrics.js'
import { RecordingBus, TEST_IP_KEYRING, wireBatch, wireEvent, wireReceipt } from './test-fixtures.js'

const ORIGIN = 'https://app.example.com'
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: 'acme',
      name: 'Acme',
      sites: [{ id: 'web', write_key: 'pk_test_site', allowed_origins: [ORIGIN], consent_mode: 'opt-out' }],
    },
  ],
})

let bus: RecordingBus
let metrics: IngestMetrics
let app: ReturnType<typeof createIngestApp>

beforeEach(() => {
  bus = new RecordingBus()
  metrics = createIngestMetrics(new Registry())
  app = createIngestApp({
    tenants: () => tenants,
    bus,
    trust: compileTrust(['10.0.0.0/8']),
    ipKeyring: () => TEST_IP_KEYRING,
    metrics,
    logger: createLogger('ingest-test', 'silent'),
    bodyLimitBytes: 4096,
    now: () => Date.UTC(2026, 10, 28, 12, 0, 5),
  })
})

function post(body: unknown, headers: Record<string, string> = {}, peer = '203.0.113.77') {
  return app.request(
    '/v1/batch',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, 'user-agent': 'UA/1.0', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    { incoming: { socket: { remoteAddress: peer } } },
  )
}

async function outcome(name: string): Promise<number> {
  const metric = await metrics.events.get()
  return metric.values.find((v) => v.labels.outcome === name)?.value ?? 0
}

describe('POST /v1/batch', () => {
  it('accepts a valid batch and publishes an envelope stamped by the server', async () => {
    const batch = wireBatch()
    const res = await post(batch)
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ accepted: 1, dropped: 0, rejected: [] })
    expect(bus.published).toHaveLength(1)
    const env = bus.envelopes[0]!
    expect(env).toMatchObject({ v: 1, kind: 'events', org_id: 'acme', site_id: 'web', ua: 'UA/1.0', policy_revision: '3' })
    expect(env.ip_sealed).toMatch(/^v1\.test\./)
    expect(openIp(env.ip_sealed, TEST_IP_KEYRING, { orgId: 'acme', siteId: 'web' })).toBe('203.0.113.77')
    expect(JSON.stringify(bus.published)).not.toContain('203.0.113.77')
    expect(env.received_at).toBe(Date.UTC(2026, 10, 28, 12, 0, 5))
    expect(env.sent_at).toBe(batch.sa)
    expect(env.events).toEqual(batch.e)
    expect(await outcome('accepted')).toBe(1)
  })

  it('takes the org and site from the write key, never from the body', async () => {
    const res = await post({ ...wireBatch(), org_id: 'evil' })
    expect(res.status).toBe(400)
    expect(bus.published).toHaveLength(0)
  })

  it('accepts text/plain bodies, as sendBeacon sends them', async () => {
    const res = await post(wireBatch(), { 'content-type': 'text/plain;charset=UTF-8' })
    expect(res.status).toBe(202)
    expect(bus.published).toHaveLength(1)
  })

  it('rejects malformed JSON with 400 and a reason', async () => {
    const res = await post('{"v":1,', {})
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'malformed_json', message: 'body is not valid JSON' })
  })

  it('rejects a batch of the wrong shape with 400 naming the field', async () => {
    const res = await post({ ...wireBatch(), sa: 'yesterday' })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: string; message: string }
    expect(body.error).toBe('invalid_batch')
    expect(body.message).toContain('sa')
  })

  it('rejects bad events one by one and still publishes the valid ones', async () => {
    const good = wireEvent()
    const res = await post({ ...wireBatch(), e: [{ ...wireEvent(), t: 'keylogger' }, good] })
    expect(res.status).toBe(202)
    const body = (await res.json()) as { accepted: number; rejected: { index: number; reason: string }[] }
    expect(body.accepted).toBe(1)
    expect(body.rejected).toHaveLength(1)
    expect(body.rejected[0]!.index).toBe(0)
    expect(body.rejected[0]!.reason).toContain('t')
    expect(bus.envelopes[0]!.events).toEqual([good])
    expect(await outcome('rejected')).toBe(1)
  })

  it('answers 400 when no event is valid', async () => {
    const res = await post({ ...wireBatch(), e: [{ id: 'not-a-uuid', t: 'pageview', ts: 1 }] })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toBe('invalid_events')
    expect(bus.published).toHaveLength(0)
  })

  it('rejects oversize bodies with 413', async () => {
    const res = await post({ ...wireBatch(), pad: 'x'.repeat(5000) })
    expect(res.status).toBe(413)
    expect(((await res.json()) as { error: string }).error).toBe('body_too_large')
  })

  it('rejects other media types with 415', async () => {
    const res = await post(wireBatch(), { 'content-type': 'application/x-www-form-urlencoded' })
    expect(res.status).toBe(415)
  })

  it('rejects unknown write keys with 401', async () => {
    const res = await post(wireBatch({ k: 'pk_nope' }))
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: string }).error).toBe('unknown_write_key')
  })

  it('rejects origins not allowed for the site with 403, and a missing Origin too', async () => {
    expect((await post(wireBatch(), { origin: 'https://evil.example' })).status).toBe(403)
    const res = await app.request('/v1/batch', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(wireBatch()),
    })
    expect(res.status).toBe(403)
    expect(bus.published).toHaveLength(0)
  })

  it.each([
    ['no analytics grant', {}, { a: false, p: true }, 'consent'],
    ['DNT: 1', { dnt: '1' }, { a: true, p: true }, 'dnt'],
    ['Sec-GPC: 1', { 'sec-gpc': '1' }, { a: true, p: true }, 'gpc'],
    ['the SDK reporting GPC', {}, { a: true, p: true, b: 'gpc' as const }, 'gpc'],
    ['the SDK reporting DNT', {}, { a: true, p: true, b: 'dnt' as const }, 'dnt'],
  ])('drops and counts analytics events with %s, storing nothing', async (_name, headers, consent, reason) => {
    const res = await post(wireBatch({ c: consent, e: [wireEvent(), wireEvent({ t: 'click' })] }), headers)
    expect(res.status).toBe(202)
    expect(await res.json()).toEqual({ accepted: 0, dropped: 2, dropped_reason: reason, rejected: [] })
    expect(bus.published).toHaveLength(0)
    expect(await outcome(`dropped_${reason}`)).toBe(2)
  })

  it.each([
    ['DNT sent twice', [['dnt', '1'], ['dnt', '1']], 'dnt'],
    ['Sec-GPC sent twice', [['sec-gpc', '1'], ['sec-gpc', '1']], 'gpc'],
    ['DNT 0 then 1', [['dnt', '0'], ['dnt', '1']], 'dnt'],
    ['a Sec-GPC list with odd spacing', [['sec-gpc', '0 ,  1 ']], 'gpc'],
    ['DNT 1,1 in one line', [['dnt', '1,1']], 'dnt'],
  ])('treats %s as the signal: any list element equal to 1', async (_name, signal, reason) => {
    const headers = new Headers({ 'content-type': 'application/json', origin: ORIGIN })
    for (const [name, value] of signal as [string, string][]) headers.append(name, value)
    const res = await app.request('/v1/batch', { method: 'POST', headers, body: JSON.stringify(wireBatch({ c: { a: true, p: true } })) }, { incoming: { socket: { remoteAddress: '203.0.113.77' } } })
    expect(await res.json()).toEqual({ accepted: 0, dropped: 1, dropped_reason: reason, rejected: [] })
    expect(bus.published).toHaveLength(0)
  })

  it('keeps events when no element of DNT or Sec-GPC is 1', async () => {
    const res = await post(wireBatch(), { dnt: '0, 0', 'sec-gpc': '11, 01, 1.0' })
    expect(await res.json()).toMatchObject({ accepted: 1, dropped: 0 })
  })

  it.each(['__proto__', 'constructor', 'prototype'])('rejects an event with the prop key %s as any invalid key, and its neighbours land', async (key) => {
    const [before, after] = [wireEvent(), wireEvent({ t: 'click' })]
    // Written as text: an object literal's __proto__ would set a prototype, not a key.
    const bad = JSON.stringify(wireEvent({ p: { plan: 'pro' } })).replace('"plan"', `"${key}":"x","plan"`)
    const body = JSON.stringify(wireBatch({ e: [before, { id: 'placeholder' } as never, after] })).replace('{"id":"placeholder"}', bad)
    const res = await post(body)
    expect(res.status).toBe(202)
    const answer = (await res.json()) as { accepted: number; rejected: { index: number; code: string; reason: string }[] }
    expect(answer.accepted).toBe(2)
    expect(answer.rejected).toEqual([{ index: 1, code: 'invalid_string', reason: `p.${key}: prop keys may not be __proto__, constructor, prototype` }])
    expect(bus.envelopes[0]!.events).toEqual([before, after])
    expect(await outcome('rejected')).toBe(1)
  })

  it('answers 400 invalid_events for a batch whose only event has a __proto__ prop, never a silent {}', async () => {
    const body = JSON.stringify(wireBatch({ e: [wireEvent({ p: { k: 1 } })] })).replace('"k":1', '"__proto__":{"nested":1}')
    const res = await post(body)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_events', message: expect.stringContaining('invalid_string') })
    expect(bus.published).toHaveLength(0)
  })

  it.each([
    ['IPv4 with a port', '203.0.113.9:4711', '203.0.113.9'],
    ['bracketed IPv6 with a port', '[2001:db8::1]:443', '2001:db8::1'],
    ['bracketed IPv6', '[2001:db8::1]', '2001:db8::1'],
    ['IPv4-mapped IPv6 with a port', '[::ffff:203.0.113.9]:80', '::ffff:203.0.113.9'],
    ['a client port behind a trusted hop with a port', '198.51.100.9:5000, 10.0.0.2:8080', '198.51.100.9'],
  ])('reads X-Forwarded-For from a trusted proxy down to the address: %s', async (_name, xff, client) => {
    await post(wireBatch(), { 'x-forwarded-for': xff }, '10.1.2.3')
    const e = bus.envelopes[0]!
    expect(openIp(e.ip_sealed, TEST_IP_KEYRING, { orgId: e.org_id, siteId: e.site_id })).toBe(client)
  })

  it('believes X-Forwarded-For only from trusted proxies', async () => {
    await post(wireBatch(), { 'x-forwarded-for': '198.51.100.9' }, '203.0.113.77')
    await post(wireBatch(), { 'x-forwarded-for': '198.51.100.9' }, '10.1.2.3')
    const opened = bus.envelopes.map((e) => openIp(e.ip_sealed, TEST_IP_KEYRING, { orgId: e.org_id, siteId: e.site_id }))
    expect(opened).toEqual(['203.0.113.77', '198.51.100.9'])
  })

  it('seals each address afresh and binds it to the tenant', async () => {
    await post(wireBatch(), {}, '203.0.113.77')
    await post(wireBatch(), {}, '203.0.113.77')
    const [a, b] = bus.envelopes.map((e) => e.ip_sealed)
    expect(a).not.toBe(b)
    expect(() => openIp(a!, TEST_IP_KEYRING, { orgId: 'other', siteId: 'web' })).toThrow('authentication failed')
  })

  it('answers 503 with Retry-After when the bus is down, never 2xx', async () => {
    bus.failWith = new Error('broker gone')
    const res = await post(wireBatch())
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('2')
    expect(((await res.json()) as { error: string }).error).toBe('bus_unavailable')
    expect(await outcome('accepted')).toBe(0)
  })
})

describe('POST /v1/consent', () => {
  function postReceipt(body: unknown, headers: Record<string, string> = {}) {
    return app.request(
      '/v1/consent',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      },
      { incoming: { socket: { remoteAddress: '203.0.113.77' } } },
    )
  }

  it('publishes the receipt with org and site from the key, and no IP or user agent', async () => {
    const receipt = wireReceipt()
    const res = await postReceipt(receipt, { 'user-agent': 'UA/1.0' })
    expect(res.status).toBe(202)
    const { k: _key, ...rest } = receipt
    expect(bus.published).toEqual([{ v: 1, kind: 'consent', org_id: 'acme', site_id: 'web', received_at: Date.UTC(2026, 10, 28, 12, 0, 5), receipt: rest }])
    expect(JSON.stringify(bus.published)).not.toContain('203.0.113.77')
  })

  it('accepts receipts under DNT and GPC: they are essential', async () => {
    expect((await postReceipt(wireReceipt({ src: 'gpc' }), { 'sec-gpc': '1', dnt: '1' })).status).toBe(202)
    expect(bus.published).toHaveLength(1)
  })

  it('rejects receipts carrying an analytics identifier', async () => {
    const res = await postReceipt({ ...wireReceipt(), a_id: 'anon_1' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toBe('invalid_receipt')
  })

  it('applies the same key and origin checks as batches', async () => {
    expect((await postReceipt(wireReceipt({ k: 'pk_nope' }))).status).toBe(401)
    expect((await postReceipt(wireReceipt(), { origin: 'https://evil.example' })).status).toBe(403)
    expect((await postReceipt('{')).status).toBe(400)
    expect(bus.published).toHaveLength(0)
  })
})

describe('CORS', () => {
  it('answers preflight for configured origins, without credentials', async () => {
    const res = await app.request('/v1/batch', {
      method: 'OPTIONS',
      headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(res.headers.get('access-control-allow-credentials')).toBeNull()
  })

  it('exposes Retry-After to the SDK on actual responses', async () => {
    bus.failWith = new Error('down')
    const res = await post(wireBatch())
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(res.headers.get('access-control-expose-headers')).toContain('Retry-After')
  })

  it('gives other origins no CORS grant', async () => {
    const res = await app.request('/v1/batch', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    })
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
  })
})

describe('health', () => {
  it('reports readiness from the bus', async () => {
    expect((await app.request('/healthz')).status).toBe(200)
    expect((await app.request('/readyz')).status).toBe(200)
    bus.isReady = false
    expect((await app.request('/readyz')).status).toBe(503)
  })

  it('answers unknown paths with 404 and a reason', async () => {
    const res = await app.request('/v2/nope')
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: string }).error).toBe('not_found')
  })
})
