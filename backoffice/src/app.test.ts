import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createLogger, pseudonymizer, TenantDirectory, generateApiKey } from '@atspark/runtime'
import { Hono } from 'hono'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createBackofficeApp } from './app.js'
import { DASHBOARD_CSP } from './dashboard/routes.js'
import type { PrivacyApiDeps } from './privacy/api.js'
import type { PrivacyStore } from '@atspark/warehouse'

// Every kind of back-office answer carries the edge's protective headers (ingest/src/edge-headers.ts):
// nothing is stored by a browser or proxy, nothing is sniffed, framed or referred; the dashboard's page
// keeps its own strict CSP and revalidated caching.

const PROTECTIVE = {
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
/** The dashboard's files: its CSP, revalidated rather than never stored. */
const DASHBOARD_FILE = { ...PROTECTIVE, 'content-security-policy': DASHBOARD_CSP, 'cache-control': 'no-cache' }
const DASHBOARD_ERROR = { ...PROTECTIVE, 'content-security-policy': DASHBOARD_CSP }

const keys = { analyst: generateApiKey(), privacy: generateApiKey() }
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: 'org-a',
      name: 'A',
      hmac_secret: Buffer.alloc(32, 1).toString('base64'),
      api_keys: [
        { id: 'a-analyst', hash: keys.analyst.hash, role: 'analyst' },
        { id: 'a-privacy', hash: keys.privacy.hash, role: 'privacy' },
      ],
      sites: [{ id: 'web', write_key: 'pk_aaa', allowed_origins: ['https://x.example'], consent_mode: 'opt-in' }],
    },
  ],
})
const pseudonymize = pseudonymizer(() => Buffer.alloc(32, 1))

/** One subject's events, as a personal-data export reads them. */
const store = {
  audit: async () => {},
  putRequest: async () => {},
  listRequests: async () => [],
  async *exportEvents() {
    yield JSON.stringify({ event_id: 'e1', user_pid: pseudonymize('org-a', 'alice') })
  },
  countEvents: async () => 1,
  deleteEvents: async () => {},
  putSuppression: async () => {},
  activeSuppressions: async () => [],
} satisfies PrivacyStore
// Only what these answers touch; the refusal limiter lets everyone through.
const privacy = {
  tenants: () => tenants,
  store,
  pseudonymize,
  suppressions: { set: () => {} },
  logger: createLogger('backoffice-test', 'silent'),
  refusals: { retryAfterMs: () => undefined, refused: () => {} },
  trust: () => false,
} as unknown as PrivacyApiDeps

/** The warehouse: pings answer unless told otherwise; stats queries answer rows, or fail like the engine for site=broken. */
let pingOk = true
const warehouse = {
  ping: async () => ({ success: pingOk }),
  query: async (q: { query_params: Record<string, unknown> }) => {
    if (q.query_params.site === 'web' && q.query_params.from === '2026-11-02') throw Object.assign(new Error('boom'), { code: '60', type: 'UNKNOWN_TABLE' })
    if (q.query_params.from === '2026-11-03') throw Object.assign(new Error('slow'), { code: '159', type: 'TIMEOUT_EXCEEDED' })
    return { json: async () => [] }
  },
} as unknown as Parameters<typeof createBackofficeApp>[0]['warehouse']

const dir = mkdtempSync(join(tmpdir(), 'atspark-backoffice-'))
for (const [file, body] of [
  ['index.html', '<!doctype html><title>dashboard</title>'],
  ['app.js', 'console.log(1)'],
  ['app.css', 'body{}'],
  ['licenses.txt', 'MIT'],
]) writeFileSync(join(dir, file as string), body as string)

// Routes another part of the same process mounts (the processor's failpoint switch in a single-node process) answer with the headers too.
const routes = new Hono().put('/_failpoints/warehouse-write', (c) => c.json({ error: 'invalid_failpoint' }, 400))
const app = createBackofficeApp({
  warehouse,
  registries: [new Registry()],
  routes,
  privacy,
  stats: { warehouse, tenants: () => tenants, logger: createLogger('backoffice-test', 'silent'), k: 5 },
  dashboard: { assetsDir: pathToFileURL(`${dir}/`) },
})

const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
const stats = (query: string, key = keys.analyst.key) => app.request(`/v1/stats/timeseries?site=web${query}`, { headers: bearer(key) })

const ANSWERS: [string, () => Promise<Response> | Response, number, Record<string, string>][] = [
  ['/healthz', () => app.request('/healthz'), 200, PROTECTIVE],
  ['/readyz ready', () => app.request('/readyz'), 200, PROTECTIVE],
  [
    '/readyz not ready',
    async () => {
      pingOk = false
      try {
        return await app.request('/readyz')
      } finally {
        pingOk = true
      }
    },
    503,
    PROTECTIVE,
  ],
  ['/metrics', () => app.request('/metrics'), 200, PROTECTIVE],
  ['/openapi.json', () => app.request('/openapi.json'), 200, PROTECTIVE],
  ['a 404', () => app.request('/nothing-here'), 404, PROTECTIVE],
  ['a 404 under /v1/stats', () => app.request('/v1/stats/nothing', { headers: bearer(keys.analyst.key) }), 404, PROTECTIVE],
  ['a stats answer', () => stats('&from=2026-11-01&to=2026-11-05'), 200, PROTECTIVE],
  ['the sites list', () => app.request('/v1/stats/sites', { headers: bearer(keys.analyst.key) }), 200, PROTECTIVE],
  ['a stats 400', () => stats('&from=2026-02-30'), 400, PROTECTIVE],
  ['a stats 401', () => app.request('/v1/stats/timeseries'), 401, PROTECTIVE],
  ['a stats 403', () => stats('', keys.privacy.key), 403, PROTECTIVE],
  ['a stats 404', () => app.request('/v1/stats/timeseries?site=nope', { headers: bearer(keys.analyst.key) }), 404, PROTECTIVE],
  ['a stats 500', () => stats('&from=2026-11-02&to=2026-11-05'), 500, PROTECTIVE],
  ['a stats 503', () => stats('&from=2026-11-03&to=2026-11-05'), 503, PROTECTIVE],
  ['a personal-data export', () => app.request('/v1/privacy/export?user_id=alice', { headers: bearer(keys.privacy.key) }), 200, PROTECTIVE],
  ['a privacy 401', () => app.request('/v1/privacy/export?user_id=alice'), 401, PROTECTIVE],
  ['a privacy 400', () => app.request('/v1/privacy/export', { headers: bearer(keys.privacy.key) }), 400, PROTECTIVE],
  [
    'a failpoint 400',
    () => app.request('/_failpoints/warehouse-write', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }),
    400,
    PROTECTIVE,
  ],
  ['the / redirect', () => app.request('/'), 302, PROTECTIVE],
  ['the dashboard page', () => app.request('/dashboard'), 200, DASHBOARD_FILE],
  ['the dashboard bundle', () => app.request('/dashboard/app.js'), 200, DASHBOARD_FILE],
  ['a 404 under /dashboard', () => app.request('/dashboard/nothing.js'), 404, DASHBOARD_ERROR],
  ['the /dashboard/ redirect', () => app.request('/dashboard/'), 301, DASHBOARD_ERROR],
]

describe('back-office answers carry the protective headers', () => {
  it.each(ANSWERS)('%s', async (_name, send, status, expected) => {
    const res = await send()
    expect(res.status).toBe(status)
    const headers = Object.fromEntries(res.headers)
    for (const [name, value] of Object.entries(expected)) expect(headers[name], name).toBe(value)
    // No HSTS over plain HTTP.
    expect(headers['strict-transport-security']).toBeUndefined()
  })

  it('the export still streams its rows as NDJSON under them', async () => {
    const res = await app.request('/v1/privacy/export?user_id=alice', { headers: bearer(keys.privacy.key) })
    expect(await res.text()).toContain('"event_id":"e1"')
  })

  it('HSTS only over the back office’s own TLS: a forwarded proto from an untrusted peer is ignored', async () => {
    expect((await app.request('https://backoffice.example/healthz')).headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains')
    expect((await app.request('/healthz', { headers: { 'x-forwarded-proto': 'https' } })).headers.get('strict-transport-security')).toBeNull()
  })

  it('/metrics keeps its Prometheus content type', async () => {
    expect((await app.request('/metrics')).headers.get('content-type')).toMatch(/^text\/plain/)
  })
})
