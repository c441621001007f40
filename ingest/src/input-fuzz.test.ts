import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createIngestApp } from './app.js'
import { compileTrust, createLogger, TenantDirectory } from '@atspark/runtime'
import { createIngestMetrics } from './metrics.js'
import { RecordingBus, TEST_IP_KEYRING, wireBatch, wireEvent } from './test-fixtures.js'

// The in-process half of the input fuzzing (the HTTP half is test/src/edge-input.test.ts): hostile
// bodies and headers never get a 5xx, always get a reason, and valid batches between them still land.

const ORIGIN = 'https://app.example.com'
const LIMIT = 4096
const NOW = Date.UTC(2026, 10, 28, 12, 0, 5)
const tenants = TenantDirectory.from({
  orgs: [{ id: 'acme', name: 'Acme', sites: [{ id: 'web', write_key: 'pk_test_site', allowed_origins: [ORIGIN], consent_mode: 'opt-out' }] }],
})

const enc = new TextEncoder()
const validText = () => JSON.stringify(wireBatch())
// Made once: compressing per run would be most of the test's time.
const BOMBS = [gzipSync(Buffer.alloc(5_000_000, 0x20)), gzipSync(Buffer.alloc(LIMIT + 1, 0x20)), gzipSync(validText()).subarray(0, 30)]

/** Sets `value` at a random path of a valid batch: a structurally plausible, usually invalid, body. */
const mutatedBatch = fc
  .tuple(fc.constantFrom('v', 'k', 'sa', 'c', 'c.a', 'c.r', 'e', 'e.0', 'e.0.id', 'e.0.t', 'e.0.ts', 'e.0.n', 'e.0.p', 'e.0.p.k', 'e.0.u', 'e.0.a', 'x'), fc.jsonValue({ maxDepth: 12 }))
  .map(([path, value]) => {
    const batch = JSON.parse(validText()) as Record<string, unknown>
    const keys = path.split('.')
    let at: Record<string, unknown> = batch
    for (const key of keys.slice(0, -1)) {
      if (typeof at[key] !== 'object' || at[key] === null) at[key] = {}
      at = at[key] as Record<string, unknown>
    }
    at[keys.at(-1)!] = value
    return enc.encode(JSON.stringify(batch))
  })

/** Bytes spliced into a valid body: broken UTF-8, BOMs, NULs, stray brackets. */
const corruptedBatch = fc
  .tuple(fc.nat(), fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0xfe, 0xff], [0x00], [0x5b, 0x5b], [0x7d]))
  .map(([at, bytes]) => {
    const text = enc.encode(validText())
    const cut = at % text.length
    return Uint8Array.from([...text.subarray(0, cut), ...bytes, ...text.subarray(cut)])
  })

const hostileBody = fc.oneof(
  fc.uint8Array({ maxLength: 2 * LIMIT }),
  fc.string({ unit: 'binary', maxLength: 2000 }).map((s) => enc.encode(s)),
  fc.jsonValue({ maxDepth: 20 }).map((v) => enc.encode(JSON.stringify(v) ?? 'null')),
  mutatedBatch,
  corruptedBatch,
  fc.integer({ min: 9, max: 20_000 }).map((n) => enc.encode('['.repeat(n))),
  fc.integer({ min: 1, max: 3 * LIMIT }).map((n) => enc.encode(validText() + ' '.repeat(n))),
  fc.constantFrom('\\ud800', '\\udfff', '\\ud83d\\ud83d', '\\u0000').map((esc) => enc.encode(validText().replace('"pageview"', `"page${esc}view"`))),
  fc.constantFrom(...BOMBS),
)

const hostileHeaders = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'text/plain;charset=UTF-8', 'application/json; charset=utf-16', '', 'multipart/form-data; boundary=x', 'text/html', 'application/JSON'),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'gzip, gzip', 'x-gzip', 'zstd', ''),
    origin: fc.constantFrom(ORIGIN, 'https://evil.example', 'null', '', ORIGIN.toUpperCase(), `${ORIGIN}.evil.example`),
    'content-length': fc.constantFrom('0', '1', '4096', '4097', '99999999999'),
    dnt: fc.constantFrom('1', '0', 'yes'),
    'x-forwarded-for': fc.constantFrom('1.2.3.4', 'garbage', '::1, 999.1.1.1', ''),
  },
  { requiredKeys: [] },
)

describe('POST /v1/batch under fuzzing (in process)', () => {
  it('answers every hostile request with a 4xx and a reason (or 202), never a 5xx, while valid batches land', async () => {
    const bus = new RecordingBus()
    const metrics = createIngestMetrics(new Registry())
    const app = createIngestApp({
      tenants: () => tenants,
      bus,
      trust: compileTrust(['10.0.0.0/8']),
      ipKeyring: () => TEST_IP_KEYRING,
      metrics,
      logger: createLogger('ingest-fuzz', 'silent'),
      bodyLimitBytes: LIMIT,
      now: () => NOW,
    })
    const landed: string[] = []
    let posts = 0
    const send = (body: Uint8Array, headers: Record<string, string>) => {
      posts++
      return app.request('/v1/batch', { method: 'POST', headers, body }, { incoming: { socket: { remoteAddress: '203.0.113.9' } } })
    }
    await fc.assert(
      fc.asyncProperty(hostileBody, hostileHeaders, async (body, headers) => {
        const res = await send(body, headers)
        expect(res.status).toBeLessThan(500)
        const answer = (await res.json()) as { error?: unknown; message?: unknown; accepted?: unknown }
        if (res.status >= 400) {
          expect(answer.error).toMatch(/^[a-z0-9_]+$/)
          expect(typeof answer.message).toBe('string')
        } else expect(typeof answer.accepted).toBe('number')
        // A valid batch right after the garbage still lands.
        const event = wireEvent()
        const ok = await send(enc.encode(JSON.stringify(wireBatch({ e: [event] }))), { 'content-type': 'application/json', origin: ORIGIN })
        expect(ok.status).toBe(202)
        landed.push(event.id)
      }),
      { numRuns: 1000 },
    )
    const published = new Set(bus.envelopes.flatMap((e) => e.events.map((ev) => ev.id)))
    for (const id of landed) expect(published.has(id)).toBe(true)
    // Every POST was counted once, under its status and reason; every event of an authorized batch has one outcome.
    const requests = (await metrics.requests.get()).values.reduce((n, v) => n + v.value, 0)
    expect(requests).toBe(posts)
    const received = (await metrics.eventsReceived.get()).values.reduce((n, v) => n + v.value, 0)
    const outcomes = (await metrics.events.get()).values.reduce((n, v) => n + v.value, 0)
    expect(outcomes).toBe(received)
  }, 120_000)
})
