import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createIngestApp } from './app.js'
import { compileTrust } from './client-ip.js'
import { BusUnavailableError } from './errors.js'
import { createLogger } from './logger.js'
import { createIngestMetrics } from './metrics.js'
import { TenantDirectory } from './tenants.js'
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

// The answer paths differ (the write routes build their headers before the response exists; the rest are
// completed afterwards), so this pins that every path still sends exactly the same headers.
describe('every answer carries exactly its headers', () => {
  const { app, post } = setup()
  const batch = JSON.stringify(wireBatch())

  it('a 202 batch', async () => {
    expect(await headersOf(post(batch))).toMatchInlineSnapshot(`
      {
        "(status)": "202",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 202 batch over HTTPS through a trusted proxy', async () => {
    expect(await headersOf(post(batch, { 'x-forwarded-proto': 'https' }, '/v1/batch', '10.1.2.3'))).toMatchInlineSnapshot(`
      {
        "(status)": "202",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "strict-transport-security": "max-age=63072000; includeSubDomains",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 202 consent receipt', async () => {
    expect(await headersOf(post(JSON.stringify(wireReceipt()), {}, '/v1/consent'))).toMatchInlineSnapshot(`
      {
        "(status)": "202",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 400 malformed body', async () => {
    expect(await headersOf(post('{'))).toMatchInlineSnapshot(`
      {
        "(status)": "400",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 401 unknown write key', async () => {
    expect(await headersOf(post(JSON.stringify(wireBatch({ k: 'pk_nope' }))))).toMatchInlineSnapshot(`
      {
        "(status)": "401",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it("a 403 from another site's allowed origin", async () => {
    expect(await headersOf(post(batch, { origin: 'https://docs.example.com' }))).toMatchInlineSnapshot(`
      {
        "(status)": "403",
        "access-control-allow-origin": "https://docs.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 403 from an origin no site allows', async () => {
    expect(await headersOf(post(batch, { origin: 'https://evil.example' }))).toMatchInlineSnapshot(`
      {
        "(status)": "403",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 413', async () => {
    expect(await headersOf(post(`${batch}${' '.repeat(5000)}`))).toMatchInlineSnapshot(`
      {
        "(status)": "413",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "connection": "close",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 415', async () => {
    expect(await headersOf(post(batch, { 'content-type': 'application/xml' }))).toMatchInlineSnapshot(`
      {
        "(status)": "415",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 503 with the bus down', async () => {
    expect(await headersOf(setup(true).post(batch))).toMatchInlineSnapshot(`
      {
        "(status)": "503",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "retry-after": "2",
        "vary": "Origin",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a 404', async () => {
    expect(await headersOf(app.request('/nope'))).toMatchInlineSnapshot(`
      {
        "(status)": "404",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('/healthz over HTTPS', async () => {
    expect(await headersOf(app.request('https://ingest.example.com/healthz'))).toMatchInlineSnapshot(`
      {
        "(status)": "200",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/json",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "strict-transport-security": "max-age=63072000; includeSubDomains",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('a preflight from an allowed origin', async () => {
    const headers = { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' }
    expect(await headersOf(app.request('/v1/batch', { method: 'OPTIONS', headers }))).toMatchInlineSnapshot(`
      {
        "(status)": "204",
        "access-control-allow-headers": "Content-Type",
        "access-control-allow-methods": "POST",
        "access-control-allow-origin": "https://app.example.com",
        "access-control-expose-headers": "Retry-After",
        "access-control-max-age": "86400",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "vary": "Origin, Access-Control-Request-Headers",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
  it('the SDK script', async () => {
    expect(await headersOf(app.request('/sdk/atspark.min.js'))).toMatchInlineSnapshot(`
      {
        "(status)": "200",
        "cache-control": "public, max-age=300",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
        "content-type": "application/javascript; charset=utf-8",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "cross-origin",
        "origin-agent-cluster": "?1",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "x-dns-prefetch-control": "off",
        "x-download-options": "noopen",
        "x-frame-options": "DENY",
        "x-permitted-cross-domain-policies": "none",
        "x-xss-protection": "0",
      }
    `)
  })
})
