import { gzipSync } from 'node:zlib'
import { LIMITS } from '@atspark/schemas'
import { Registry } from 'prom-client'
import { beforeEach, describe, expect, it } from 'vitest'
import { createIngestApp } from './app.js'
import { compileTrust, HSTS_VALUE, createLogger, TenantDirectory } from '@atspark/runtime'
import { createIngestMetrics, type IngestMetrics } from './metrics.js'
import { RecordingBus, TEST_IP_KEYRING, wireBatch, wireEvent, wireReceipt } from './test-fixtures.js'

const ORIGIN = 'https://app.example.com'
const LIMIT = 4096
const SENT_AT = Date.UTC(2026, 10, 28, 12, 0, 1)
const DAY = 86_400_000
const tenants = TenantDirectory.from({
  orgs: [{ id: 'acme', name: 'Acme', sites: [{ id: 'web', write_key: 'pk_test_site', allowed_origins: [ORIGIN], consent_mode: 'opt-out' }] }],
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
    bodyLimitBytes: LIMIT,
    now: () => SENT_AT + 4000,
  })
})

type Body = string | Uint8Array | ReadableStream<Uint8Array>

function post(body: Body | object, headers: Record<string, string> = {}, path = '/v1/batch', peer = '203.0.113.77') {
  const raw = typeof body === 'string' || body instanceof Uint8Array || body instanceof ReadableStream ? body : JSON.stringify(body)
  return app.request(
    path,
    { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers }, body: raw, duplex: 'half' } as RequestInit,
    { incoming: { socket: { remoteAddress: peer } } },
  )
}

async function answer(res: Response): Promise<{ status: number; error?: string; message?: string; accepted?: number; rejected?: { index: number; code: string; reason: string }[] }> {
  return { status: res.status, ...((await res.json()) as object) }
}

async function rejectedBy(reason: string): Promise<number> {
  const metric = await metrics.events.get()
  return metric.values.filter((v) => v.labels.outcome === 'rejected' && v.labels.reason === reason).reduce((n, v) => n + v.value, 0)
}

async function requestsBy(reason: string): Promise<number> {
  const metric = await metrics.requests.get()
  return metric.values.filter((v) => v.labels.reason === reason).reduce((n, v) => n + v.value, 0)
}

/** A valid batch padded with JSON whitespace to exactly `size` bytes. */
function batchOfSize(size: number): string {
  const text = JSON.stringify(wireBatch())
  return text + ' '.repeat(size - Buffer.byteLength(text))
}

describe('body limits, before buffering', () => {
  it('accepts a body of exactly the limit and refuses one byte more with 413', async () => {
    expect((await post(batchOfSize(LIMIT))).status).toBe(202)
    const res = await post(batchOfSize(LIMIT + 1))
    expect(await answer(res)).toMatchObject({ status: 413, error: 'body_too_large' })
    expect(res.headers.get('connection')).toBe('close')
  })

  it('refuses a chunked body (no Content-Length) that goes over the limit', async () => {
    let sent = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1024
        controller.enqueue(new Uint8Array(1024).fill(0x20))
      },
    })
    expect(await answer(await post(endless))).toMatchObject({ status: 413, error: 'body_too_large' })
    expect(sent).toBeLessThan(LIMIT * 2)
  })

  it('accepts gzip bodies and refuses a gzip bomb with 413', async () => {
    const res = await post(gzipSync(Buffer.from(JSON.stringify(wireBatch()))), { 'content-encoding': 'gzip' })
    expect(res.status).toBe(202)
    const bomb = gzipSync(Buffer.alloc(10_000_000, 0x20))
    expect(await answer(await post(bomb, { 'content-encoding': 'gzip' }))).toMatchObject({ status: 413, error: 'body_too_large' })
  })

  it.each([
    ['an unknown content coding', { 'content-encoding': 'compress' }, JSON.stringify(wireBatch()), 415, 'unsupported_encoding'],
    ['stacked codings', { 'content-encoding': 'gzip, br' }, JSON.stringify(wireBatch()), 415, 'unsupported_encoding'],
    ['a body that is not what its coding claims', { 'content-encoding': 'gzip' }, JSON.stringify(wireBatch()), 400, 'bad_compression'],
    ['another media type', { 'content-type': 'application/x-www-form-urlencoded' }, 'v=1', 415, 'unsupported_media_type'],
  ])('answers %s with %i %s', async (_name, headers, body, status, error) => {
    expect(await answer(await post(body, headers))).toMatchObject({ status, error })
    expect(await requestsBy(error)).toBe(1)
  })
})

describe('content limits', () => {
  it('refuses bodies that are not UTF-8, and accepts a leading BOM', async () => {
    const text = Buffer.from(JSON.stringify(wireBatch()))
    expect(await answer(await post(Buffer.concat([text.subarray(0, 20), Buffer.from([0xc3, 0x28]), text.subarray(20)])))).toMatchObject({ status: 400, error: 'invalid_utf8' })
    expect((await post(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]))).status).toBe(202)
  })

  it('refuses deep nesting before parsing it', async () => {
    expect(await answer(await post('['.repeat(3000)))).toMatchObject({ status: 400, error: 'nesting_too_deep' })
  })

  it('refuses more events than a batch may hold as a whole, naming the limit', async () => {
    const events = Array.from({ length: LIMITS.eventsPerBatch + 1 }, () => ({}))
    expect(await answer(await post({ ...wireBatch(), e: events }))).toMatchObject({ status: 400, error: 'too_many_events' })
  })

  it('names a sent_at outside 2000–2100 and control characters in the write key', async () => {
    expect(await answer(await post(wireBatch({ sa: 5 })))).toMatchObject({ status: 400, error: 'timestamp_out_of_range' })
    expect(await answer(await post(wireBatch({ k: 'pk_test\u0000site' })))).toMatchObject({ status: 400, error: 'invalid_string' })
  })

  const bad: [string, object, string][] = [
    ['too many props', { p: Object.fromEntries(Array.from({ length: LIMITS.propsKeys + 1 }, (_, i) => [`k${i}`, i])) }, 'too_many_props'],
    ['a long prop key', { p: { ['k'.repeat(LIMITS.propKeyLength + 1)]: 1 } }, 'prop_key_too_long'],
    ['a long prop value', { p: { k: 'v'.repeat(LIMITS.propValueLength + 1) } }, 'prop_value_too_long'],
    ['a nested prop value', { p: { k: { deeper: 1 } } }, 'nesting_too_deep'],
    ['an array prop value', { p: { k: [1, 2] } }, 'nesting_too_deep'],
    ['a control character in a prop key', { p: { 'a\u0007b': 1 } }, 'invalid_string'],
    ['NUL in a prop value', { p: { k: 'a\u0000b' } }, 'invalid_string'],
    ['a newline in the name', { t: 'custom', n: 'export\ncsv' }, 'invalid_string'],
    ['a long name', { t: 'custom', n: 'n'.repeat(LIMITS.nameLength + 1) }, 'string_too_long'],
    ['a control character in the URL', { u: 'https://app.example.com/\u001b[2J' }, 'invalid_string'],
    ['an id with spaces', { a: 'anon 1' }, 'invalid_string'],
    ['a clock before 2000', { ts: 5 }, 'timestamp_out_of_range'],
    ['a time 31 days before sent_at', { ts: SENT_AT - 31 * DAY }, 'timestamp_out_of_range'],
    ['a time 2 days after sent_at', { ts: SENT_AT + 2 * DAY }, 'timestamp_out_of_range'],
    ['an unknown type', { t: 'keylogger' }, 'invalid_event'],
  ]

  it.each(bad)('rejects an event with %s (%s) while the valid one lands', async (_name, overrides, code) => {
    const good = wireEvent()
    const res = await answer(await post(wireBatch({ e: [{ ...wireEvent(), ...overrides } as never, good] })))
    expect(res).toMatchObject({ status: 202, accepted: 1 })
    expect(res.rejected).toEqual([{ index: 0, code, reason: expect.any(String) }])
    expect(bus.envelopes[0]!.events).toEqual([good])
    expect(await rejectedBy(code)).toBe(1)
  })

  it('answers 400 invalid_events when no event is valid, counting each under its own code', async () => {
    const res = await answer(await post(wireBatch({ e: [wireEvent({ ts: 5 }), { ...wireEvent(), p: { k: [1] } } as never] })))
    expect(res).toMatchObject({ status: 400, error: 'invalid_events' })
    expect(res.message).toContain('timestamp_out_of_range')
    expect(res.message).toContain('nesting_too_deep')
    expect(await rejectedBy('timestamp_out_of_range')).toBe(1)
    expect(await rejectedBy('nesting_too_deep')).toBe(1)
    expect(bus.published).toHaveLength(0)
  })

  it('keeps an event a little after sent_at (a clock step; the processor clamps it) and one 29 days old', async () => {
    const res = await answer(await post(wireBatch({ e: [wireEvent({ ts: SENT_AT + 3_600_000 }), wireEvent({ ts: SENT_AT - 29 * DAY })] })))
    expect(res).toMatchObject({ status: 202, accepted: 2, rejected: [] })
  })

  it('replaces lone surrogates (the SDK may cut a pair) instead of losing the event', async () => {
    const text = JSON.stringify(wireBatch({ e: [wireEvent({ t: 'custom', n: 'x', p: { label: 'PLACEHOLDER' } })] })).replace('PLACEHOLDER', 'cut \\ud83d')
    expect((await post(text)).status).toBe(202)
    expect(bus.envelopes[0]!.events[0]!.p).toEqual({ label: 'cut \uFFFD' })
  })

  it('applies the same body limits to consent receipts', async () => {
    expect((await post(gzipSync(JSON.stringify(wireReceipt())), { 'content-encoding': 'gzip' }, '/v1/consent')).status).toBe(202)
    expect(await answer(await post(`${JSON.stringify(wireReceipt())}${' '.repeat(LIMIT)}`, {}, '/v1/consent'))).toMatchObject({ status: 413, error: 'body_too_large' })
    expect(await answer(await post('{"v":[[[[[[[[[[1]]]]]]]]]]}', {}, '/v1/consent'))).toMatchObject({ status: 400, error: 'nesting_too_deep' })
  })
})

describe('edge headers', () => {
  const SECURITY = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  }

  it.each([
    ['a 202', () => post(wireBatch())],
    ['a 400', () => post('{')],
    ['a 413', () => post(batchOfSize(LIMIT + 1))],
    ['a 404', () => app.request('/nope')],
    ['/healthz', () => app.request('/healthz')],
  ])('puts the security headers and no-store on %s', async (_name, send) => {
    const res = await send()
    for (const [name, value] of Object.entries(SECURITY)) expect(res.headers.get(name), name).toBe(value)
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(res.headers.get('strict-transport-security')).toBeNull()
  })

  it('lets the SDK script keep its cross-origin CORP and caching', async () => {
    const res = await app.request('/sdk/atspark.min.js')
    expect(res.status).toBe(200)
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin')
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('sends HSTS only when a trusted proxy says the request came over HTTPS', async () => {
    expect((await post(wireBatch(), { 'x-forwarded-proto': 'https' }, '/v1/batch', '10.1.2.3')).headers.get('strict-transport-security')).toBe(HSTS_VALUE)
    expect((await post(wireBatch(), { 'x-forwarded-proto': 'https' }, '/v1/batch', '203.0.113.77')).headers.get('strict-transport-security')).toBeNull()
    expect((await app.request('https://ingest.example.com/healthz')).headers.get('strict-transport-security')).toBe(HSTS_VALUE)
  })

  it('answers preflights for allowed origins only, and only for POST', async () => {
    const preflight = (origin: string, method = 'POST') =>
      app.request('/v1/batch', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' } })
    const ok = await preflight(ORIGIN)
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(ok.headers.get('access-control-allow-methods')).toBe('POST')
    const evil = await preflight('https://evil.example')
    expect(await answer(evil)).toMatchObject({ status: 403, error: 'origin_not_allowed' })
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
    expect(await answer(await preflight(ORIGIN, 'DELETE'))).toMatchObject({ status: 403, error: 'method_not_allowed' })
    expect(await answer(await preflight('null'))).toMatchObject({ status: 403, error: 'origin_not_allowed' })
  })
})
