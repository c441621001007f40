import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createIngestApp } from './app.js'
import { compileTrust, BusUnavailableError, createLogger, TenantDirectory } from '@atspark/runtime'
import { createIngestMetrics } from './metrics.js'
import { RecordingBus, TEST_IP_KEYRING, wireBatch, wireReceipt } from './test-fixtures.js'

const ORIGIN = 'https://app.example.com'
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: 'acme',
      name: 'Acme',
      sites: [
        { id: 'web', write_key: 'pk_test_site', allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
        { id: 'docs', write_key: 'pk_docs_site', allowed_origins: ['https://docs.example.com'], consent_mode: 'opt-out' },
      ],
    },
  ],
})

function setup(failBus = false) {
  const bus = new RecordingBus()
  if (failBus) bus.failWith = new BusUnavailableError('down')
  const app = createIngestApp({
    tenants: () => tenants,
    bus,
    trust: compileTrust(['10.0.0.0/8']),
    ipKeyring: () => TEST_IP_KEYRING,
    metrics: createIngestMetrics(new Registry()),
    logger: createLogger('ingest-test', 'silent'),
    bodyLimitBytes: 4096,
    now: () => Date.UTC(2026, 10, 28, 12, 0, 5),
  })
  const post = (body: string, headers: Record<string, string> = {}, path = '/v1/batch', peer = '203.0.113.77') =>
    app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers }, body }, { incoming: { socket: { remoteAddress: peer } } })
  return { app, post }
}

/** Every header of an answer, sorted, with its status: the whole contract, not a sample of it. */
async function headersOf(res: Response | Promise<Response>): Promise<Record<string, string>> {
  const r = await res
  await r.arrayBuffer()
  return Object.fromEntries([['(status)', String(r.status)], ...[...r.headers.entries()].sort(([a], [b]) => a.localeCompare(b))])
}

/** What every answer carries, whatever the route or status (written out: the headers are the contract). */
const SECURITY = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
}
const JSON_TYPE = { 'content-type': 'application/json' }
/** CORS on a POST to a write route: the origin echoed only when some site allows it. */
const cors = (origin?: string) => ({ ...(origin ? { 'access-control-allow-origin': origin } : {}), 'access-control-expose-headers': 'Retry-After', vary: 'Origin' })
const HSTS = { 'strict-transport-security': 'max-age=63072000; includeSubDomains' }
const written = (status: number, ...parts: Record<string, string>[]): Record<string, string> => Object.assign({ '(status)': String(status) }, ...parts)

// The answer paths differ (the write routes build their headers before the response exists; the rest are
// completed afterwards), so this pins that every path sends exactly its headers, no more and no fewer.
describe('every answer carries exactly its headers', () => {
  const { app, post } = setup()
  const batch = JSON.stringify(wireBatch())
  const preflight = { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }

  it.each<[string, () => Response | Promise<Response>, Record<string, string>]>([
    ['a 202 batch', () => post(batch), written(202, SECURITY, cors(ORIGIN), JSON_TYPE)],
    ['a 202 batch over HTTPS via a trusted proxy', () => post(batch, { 'x-forwarded-proto': 'https' }, '/v1/batch', '10.1.2.3'), written(202, SECURITY, cors(ORIGIN), JSON_TYPE, HSTS)],
    ['a 202 consent receipt', () => post(JSON.stringify(wireReceipt()), {}, '/v1/consent'), written(202, SECURITY, cors(ORIGIN), JSON_TYPE)],
    ['a 400 malformed body', () => post('{'), written(400, SECURITY, cors(ORIGIN), JSON_TYPE)],
    ['a 401 unknown write key', () => post(JSON.stringify(wireBatch({ k: 'pk_nope' }))), written(401, SECURITY, cors(ORIGIN), JSON_TYPE)],
    ["a 403 from another site's origin", () => post(batch, { origin: 'https://docs.example.com' }), written(403, SECURITY, cors('https://docs.example.com'), JSON_TYPE)],
    ['a 403 from an origin no site allows', () => post(batch, { origin: 'https://evil.example' }), written(403, SECURITY, cors(), JSON_TYPE)],
    ['a 413', () => post(`${batch}${' '.repeat(5000)}`), written(413, SECURITY, cors(ORIGIN), JSON_TYPE, { connection: 'close' })],
    ['a 415', () => post(batch, { 'content-type': 'application/xml' }), written(415, SECURITY, cors(ORIGIN), JSON_TYPE)],
    ['a 503 with the bus down', () => setup(true).post(batch), written(503, SECURITY, cors(ORIGIN), JSON_TYPE, { 'retry-after': '2' })],
    ['a 404', () => app.request('/nope'), written(404, SECURITY, JSON_TYPE)],
    ['/healthz over HTTPS', () => app.request('https://ingest.example.com/healthz'), written(200, SECURITY, JSON_TYPE, HSTS)],
    [
      'a preflight from an allowed origin',
      () => app.request('/v1/batch', { method: 'OPTIONS', headers: preflight }),
      written(204, SECURITY, cors(ORIGIN), {
        'access-control-allow-headers': 'Content-Type',
        'access-control-allow-methods': 'POST',
        'access-control-max-age': '86400',
        vary: 'Origin, Access-Control-Request-Headers',
      }),
    ],
    [
      'the SDK script',
      () => app.request('/sdk/atspark.min.js'),
      written(200, SECURITY, { 'cache-control': 'public, max-age=300', 'content-type': 'application/javascript; charset=utf-8', 'cross-origin-resource-policy': 'cross-origin' }),
    ],
  ])('%s', async (_name, send, expected) => {
    expect(await headersOf(send())).toEqual(expected)
  })
})
