import { connect } from 'node:net'
import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib'
import type { ClickHouseClient } from '@clickhouse/client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

// Issue 7, input half: the public edge under hostile input, over real HTTP against the built embedded
// pipeline. Every answer is a 4xx with a reason (never a 5xx), the process stays up, memory stays bounded
// under decompression bombs, and valid batches sent between the garbage all land in the warehouse.

const LIMIT = 65_536
const FUZZ_RUNS = 3000

interface RawResponse {
  status: number
  headers: Record<string, string>
  body: string
}

/** What came back on one raw connection: every response in order, and whether the server closed it. */
interface RawResult {
  responses: RawResponse[]
  timedOut: boolean
}

let pipeline: RunningPipeline
let port = 0
let origin = ''
const landed: string[] = []
const fuzzStats = { cases: 0, answers: 0, statuses: new Map<number, number>(), errors: new Map<string, number>() }
const bombFigures: Record<string, number> = {}

/** Sends bytes on a fresh TCP connection, then waits for the server to close it; `halfClose` ends our side first. */
function sendRaw(parts: (string | Uint8Array)[], options: { halfClose?: boolean; timeoutMs?: number; pauseMs?: number } = {}): Promise<RawResult> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      socket.destroy()
    }, options.timeoutMs ?? 10_000)
    socket.on('data', (d: Buffer) => chunks.push(d))
    // EPIPE/ECONNRESET when the server refuses early and hangs up while we still write: expected.
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ responses: parseResponses(Buffer.concat(chunks)), timedOut })
    })
    socket.on('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) return
        socket.write(part)
        if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs))
      }
      if (options.halfClose) socket.end()
    })
  })
}

/** HTTP/1.1 responses back to back: Content-Length, chunked, or read to the end. */
function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = []
  let at = 0
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at)
    if (headEnd === -1) break
    const [statusLine, ...lines] = data.subarray(at, headEnd).toString('latin1').split('\r\n')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1])
    const headers: Record<string, string> = {}
    for (const line of lines) {
      const colon = line.indexOf(':')
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
    }
    let body: Buffer
    at = headEnd + 4
    if (headers['content-length'] !== undefined) {
      body = data.subarray(at, at + Number(headers['content-length']))
      at += body.length
    } else if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = []
      for (;;) {
        const lineEnd = data.indexOf('\r\n', at)
        if (lineEnd === -1) break
        const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16)
        at = lineEnd + 2
        if (!size) {
          at += 2
          break
        }
        parts.push(data.subarray(at, at + size))
        at += size + 2
      }
      body = Buffer.concat(parts)
    } else if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0)
    } else {
      body = data.subarray(at)
      at = data.length
    }
    // 1xx are interim (100 Continue after Expect): the final answer follows on the same connection.
    if (status >= 200 || !(status >= 100)) out.push({ status, headers, body: body.toString('utf8') })
  }
  return out
}

function head(method: string, path: string, headers: [string, string][]): string {
  return `${method} ${path} HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
}

/** A well-formed POST of `body` with a correct Content-Length. */
function framed(body: Uint8Array | string, headers: [string, string][] = [], path = '/v1/batch'): (string | Uint8Array)[] {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  return [
    head('POST', path, [['Host', `127.0.0.1:${port}`], ['Origin', origin], ['Content-Type', 'application/json'], ['Connection', 'close'], ['Content-Length', String(bytes.length)], ...headers]),
    bytes,
  ]
}

/** A POST streamed chunked (no Content-Length) in pieces of `pieceBytes`. */
function chunked(body: Uint8Array, headers: [string, string][] = [], pieceBytes = 16_384): (string | Uint8Array)[] {
  const parts: (string | Uint8Array)[] = [
    head('POST', '/v1/batch', [['Host', `127.0.0.1:${port}`], ['Origin', origin], ['Content-Type', 'application/json'], ['Connection', 'close'], ['Transfer-Encoding', 'chunked'], ...headers]),
  ]
  for (let i = 0; i < body.length; i += pieceBytes) {
    const piece = body.subarray(i, i + pieceBytes)
    parts.push(`${piece.length.toString(16)}\r\n`, piece, '\r\n')
  }
  parts.push('0\r\n\r\n')
  return parts
}

function reasonOf(res: RawResponse): string | undefined {
  try {
    const parsed = JSON.parse(res.body) as { error?: unknown; message?: unknown }
    return typeof parsed.error === 'string' && parsed.error !== '' && typeof parsed.message === 'string' ? parsed.error : undefined
  } catch {
    return undefined
  }
}

async function residentBytes(): Promise<number> {
  const text = await (await fetch(`${pipeline.backoffice}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('atspark_process_resident_memory_bytes '))
  if (!line) throw new Error('atspark_process_resident_memory_bytes is not exported')
  return Number(line.split(' ')[1])
}

/** Posts one valid batch the way the SDK does and remembers its events once they are acknowledged. */
async function postValid(): Promise<void> {
  const events = [event(), event({ t: 'custom', n: 'fuzz_valid', p: { round: landed.length } })]
  const res = await fetch(`${pipeline.ingest}/v1/batch`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain;charset=UTF-8', origin },
    body: JSON.stringify(batch(events)),
  })
  expect(res.status, await res.clone().text()).toBe(202)
  expect(await res.json()).toMatchObject({ accepted: 2, rejected: [] })
  landed.push(...events.map((e) => e.id))
}

beforeAll(async () => {
  // Rate limits off: this suite is about input validation, and fires thousands of requests from one address.
  pipeline = await startPipeline({ RATE_LIMIT_KEY_RPS: '0', RATE_LIMIT_ADDRESS_RPS: '0' })
  port = Number(new URL(pipeline.ingest).port)
  origin = pipeline.demo
})

afterAll(async () => {
  await pipeline?.stop()
})

const enc = new TextEncoder()
const validText = () => JSON.stringify(batch([event()]))
const PAD_BOMB = gzipSync(Buffer.alloc(10_000_000, 0x20))
// Made once: compressing per case would be most of the suite's time.
const BOMBS: Record<string, Buffer> = {
  gzip: PAD_BOMB,
  'x-gzip': PAD_BOMB,
  deflate: deflateSync(Buffer.alloc(10_000_000)),
  br: brotliCompressSync(Buffer.alloc(10_000_000), { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
}

const hostileBody: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 3000 }),
  fc.string({ unit: 'binary', maxLength: 1000 }).map((s) => enc.encode(s)),
  fc.jsonValue({ maxDepth: 15 }).map((v) => enc.encode(JSON.stringify(v) ?? 'null')),
  fc
    .tuple(fc.constantFrom('v', 'k', 'sa', 'c', 'c.a', 'e', 'e.0', 'e.0.id', 'e.0.t', 'e.0.ts', 'e.0.n', 'e.0.p', 'e.0.p.k', 'e.0.u', 'x'), fc.jsonValue({ maxDepth: 12 }))
    .map(([path, value]) => {
      const body = JSON.parse(validText()) as Record<string, unknown>
      const keys = path.split('.')
      let at: Record<string, unknown> = body
      for (const key of keys.slice(0, -1)) {
        if (typeof at[key] !== 'object' || at[key] === null) at[key] = {}
        at = at[key] as Record<string, unknown>
      }
      at[keys.at(-1)!] = value
      return enc.encode(JSON.stringify(body))
    }),
  fc
    .tuple(fc.nat(), fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0xff, 0xfe], [0x00], [0x5b]))
    .map(([at, bytes]) => {
      const text = enc.encode(validText())
      const cut = at % text.length
      return Uint8Array.from([...text.subarray(0, cut), ...bytes, ...text.subarray(cut)])
    }),
  fc.constantFrom('\\ud800', '\\udc00x', '\\u0000', '\\u001b[2J').map((esc) => enc.encode(validText().replace('"anon_e2e"', `"anon${esc}"`).replace('"Europe/London"', `"Europe/${esc}"`))),
  fc.integer({ min: 9, max: 60_000 }).map((n) => enc.encode('{"v":'.concat('['.repeat(n)))),
  fc.integer({ min: 1, max: 40_000 }).map((n) => enc.encode(validText() + ' '.repeat(LIMIT - validText().length + n))),
  fc.constant(PAD_BOMB),
)

/** Header lines a hostile client might send on top of (or instead of) the usual ones; none about half the time. */
const hostileHeaderLine: fc.Arbitrary<[string, string]> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom<[string, string]>(
      ['Content-Type', 'text/html'],
      ['Content-Type', 'application/json; charset=utf-16'],
      ['Content-Type', ''],
      ['Content-Encoding', 'gzip'],
      ['Content-Encoding', 'br'],
      ['Content-Encoding', 'deflate'],
      ['Content-Encoding', 'compress'],
      ['Content-Encoding', 'gzip, gzip'],
      ['Origin', 'https://evil.example'],
      ['Origin', 'null'],
      ['DNT', '1'],
      ['Sec-GPC', '1'],
      ['X-Forwarded-For', '999.999.1.1, ::zz'],
      ['X-Forwarded-Proto', 'https'],
      ['Expect', '100-continue'],
      ['Host', 'a b'],
      ['Content-Length', '5'],
      ['Transfer-Encoding', 'chunked'],
      ['Transfer-Encoding', 'gzip, chunked'],
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), fc.string({ unit: 'binary-ascii', maxLength: 200 })).map(([k, v]): [string, string] => [k, v.replace(/[\r\n]/g, ' ')]),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 100 }).map((b): [string, string] => ['User-Agent', Buffer.from(b.filter((x) => x !== 10 && x !== 13)).toString('latin1')]) },
  { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((n): [string, string] => ['X-Padding', 'a'.repeat(n)]) },
)
const hostileHeaderLines = fc.oneof(fc.constant<[string, string][]>([]), fc.array(hostileHeaderLine, { minLength: 1, maxLength: 3 }))

/** A body in a content coding, with its header: valid batches, garbage, bombs and lies about the coding. */
const encodedBody: fc.Arbitrary<{ body: Uint8Array; headers: [string, string][] }> = fc
  .tuple(fc.constantFrom('gzip', 'deflate', 'br', 'x-gzip'), fc.constantFrom('valid', 'garbage', 'truncated', 'bomb', 'plain'))
  .map(([coding, kind]) => {
    const plain = Buffer.from(validText())
    const compress = (b: Buffer) => (coding === 'br' ? brotliCompressSync(b) : coding === 'deflate' ? deflateSync(b) : gzipSync(b))
    const body =
      kind === 'valid' ? compress(plain) : kind === 'garbage' ? compress(Buffer.from('\u0000\u0001 not json')) : kind === 'truncated' ? compress(plain).subarray(0, 25) : kind === 'bomb' ? BOMBS[coding] ?? PAD_BOMB : plain
    return { body, headers: [['Content-Encoding', coding]] }
  })

const DAY = 86_400_000
const controlChar = fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f).map((c) => String.fromCharCode(c))

/** Event fields that break one per-event limit each. */
const badEventFields: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.integer({ min: 33, max: 80 }).map((n) => ({ p: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])) })),
  fc.integer({ min: 65, max: 300 }).map((n) => ({ p: { ['k'.repeat(n)]: 1 } })),
  fc.integer({ min: 513, max: 5000 }).map((n) => ({ p: { k: 'v'.repeat(n) } })),
  fc.oneof(fc.array(fc.jsonValue(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue(), { maxKeys: 3 })).map((v) => ({ p: { k: v } })),
  controlChar.map((ch) => ({ t: 'custom', n: `name${ch}x` })),
  controlChar.map((ch) => ({ p: { [`key${ch}`]: 1 } })),
  fc.constant({ p: { k: 'a\u0000b' } }),
  fc.integer({ min: 31, max: 3000 }).map((days) => ({ ts: Date.now() - days * DAY })),
  fc.integer({ min: 2, max: 300 }).map((days) => ({ ts: Date.now() + days * DAY })),
  fc.integer({ min: 129, max: 2000 }).map((n) => ({ t: 'custom', n: 'n'.repeat(n) })),
  fc.constantFrom({ t: 'keylogger' }, { id: 'nope' }, { sw: 1.5 }, { org_id: 'evil' }, { a: 'a b' }),
)

/** A batch with one event over a limit beside one good event: 202, the bad one rejected with its code, the good one stored. */
const eventLimitBody = badEventFields.map((fields) => {
  const good = event()
  return { body: enc.encode(JSON.stringify(batch([{ ...event(), ...fields } as never, good]))), good: good.id }
})

/** One request body with the header lines that go with it; `good` is an event id that should land when the batch is accepted. */
const hostileRequest: fc.Arbitrary<{ body: Uint8Array; headers: [string, string][]; good?: string }> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(hostileBody, hostileHeaderLines).map(([body, headers]) => ({ body, headers })) },
  { weight: 1, arbitrary: fc.tuple(encodedBody, hostileHeaderLines).map(([encoded, headers]) => ({ body: encoded.body, headers: [...encoded.headers, ...headers] })) },
  { weight: 2, arbitrary: fc.tuple(eventLimitBody, hostileHeaderLines).map(([limited, headers]) => ({ ...limited, headers })) },
)

/** How the request is framed; the lying ones end our side so the server sees the lie at once. */
const Framing = fc.oneof(
  { weight: 12, arbitrary: fc.constant('length') },
  { weight: 4, arbitrary: fc.constant('chunked') },
  { weight: 4, arbitrary: fc.constantFrom('short-length', 'long-length', 'no-length', 'length-and-chunked', 'two-lengths', 'raw-garbage') },
)

function frame(kind: string, body: Uint8Array, extra: [string, string][], path: string): { parts: (string | Uint8Array)[]; halfClose: boolean } {
  const base: [string, string][] = [['Host', `127.0.0.1:${port}`], ['Origin', origin], ['Content-Type', 'application/json'], ['Connection', 'close']]
  const withHead = (framing: [string, string][]) => [head('POST', path, [...base, ...framing, ...extra]), body]
  switch (kind) {
    case 'chunked':
      return { parts: chunked(body, extra), halfClose: false }
    case 'short-length':
      return { parts: withHead([['Content-Length', String(Math.floor(body.length / 2))]]), halfClose: true }
    case 'long-length':
      return { parts: withHead([['Content-Length', String(body.length + 100)]]), halfClose: true }
    case 'no-length':
      return { parts: withHead([]), halfClose: true }
    case 'length-and-chunked':
      return { parts: withHead([['Content-Length', String(body.length)], ['Transfer-Encoding', 'chunked']]), halfClose: true }
    case 'two-lengths':
      return { parts: withHead([['Content-Length', String(body.length)], ['Content-Length', String(body.length + 1)]]), halfClose: true }
    case 'raw-garbage':
      return { parts: [body], halfClose: true }
    default:
      return { parts: withHead([['Content-Length', String(body.length)]]), halfClose: false }
  }
}

describe('the edge under hostile input (built embedded pipeline over HTTP)', () => {
  it('accepts a body of exactly the limit and answers one byte more with 413', async () => {
    const text = validText()
    const atLimit = await sendRaw(framed(text + ' '.repeat(LIMIT - Buffer.byteLength(text))))
    expect(atLimit.responses.map((r) => r.status)).toEqual([202])
    const over = await sendRaw(framed(text + ' '.repeat(LIMIT + 1 - Buffer.byteLength(text))))
    expect(over.responses.map((r) => [r.status, reasonOf(r)])).toEqual([[413, 'body_too_large']])
  })

  it('answers a chunked body without a length that goes over the limit with 413', async () => {
    const res = await sendRaw(chunked(new Uint8Array(4 * LIMIT).fill(0x20), [], 8192))
    expect(res.responses.map((r) => [r.status, reasonOf(r)])).toEqual([[413, 'body_too_large']])
  })

  it('stops gzip bombs quickly with 413 and bounded memory', async () => {
    // 10 MB of zeros in about 10 KB; and 1 GB as 100 such gzip members back to back (about 1 MB on the wire).
    const small = gzipSync(Buffer.alloc(10_000_000))
    const gigabyte = Buffer.concat(Array.from({ length: 100 }, () => small))
    const gz: [string, string][] = [['Content-Encoding', 'gzip']]
    const before = await residentBytes()
    const started = Date.now()
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => sendRaw(framed(small, gz))),
      ...Array.from({ length: 5 }, () => sendRaw(chunked(gigabyte, gz, 65_536))),
      // Declares 1 GB up front: refused on the header, before a byte of body is read.
      ...Array.from({ length: 5 }, () => sendRaw([head('POST', '/v1/batch', [['Host', 'x'], ['Origin', origin], ['Content-Type', 'application/json'], ['Content-Encoding', 'gzip'], ['Connection', 'close'], ['Content-Length', String(1024 ** 3)]]), small])),
    ])
    const seconds = (Date.now() - started) / 1000
    const after = await residentBytes()
    for (const a of answers) expect(a.responses.map((r) => [r.status, reasonOf(r)])).toEqual([[413, 'body_too_large']])
    bombFigures.bombs = answers.length
    bombFigures.seconds = seconds
    bombFigures.rssBeforeMiB = before / 2 ** 20
    bombFigures.rssAfterMiB = after / 2 ** 20
    bombFigures.rssGrowthMiB = (after - before) / 2 ** 20
    console.log(`[edge-input] ${answers.length} bombs (10 MB, 1 GB chunked, 1 GB declared) answered 413 in ${seconds.toFixed(2)} s; server RSS ${bombFigures.rssBeforeMiB.toFixed(0)} → ${bombFigures.rssAfterMiB.toFixed(0)} MiB`)
    expect(seconds).toBeLessThan(10)
    // Inflating even one bomb would take 10 MB to 1 GB; the cap keeps each at the 64 KiB limit plus a zlib chunk.
    expect(after - before).toBeLessThan(64 * 2 ** 20)
    await postValid()
  })

  it(`answers ${FUZZ_RUNS} generated hostile requests with a 4xx and a reason, never a 5xx, with valid batches landing between them`, async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest, Framing, fc.constantFrom('/v1/batch', '/v1/batch', '/v1/batch', '/v1/consent'), async ({ body, headers, good }, framing, path) => {
        fuzzStats.cases++
        const { parts, halfClose } = frame(framing, body, headers, path)
        const result = await sendRaw(parts, { halfClose })
        expect(result.timedOut, `no answer within 10 s (${framing})`).toBe(false)
        // Only a lying frame may end without an answer: the client went away mid-request.
        if (!halfClose) expect(result.responses.length, `no answer (${framing})`).toBeGreaterThan(0)
        for (const res of result.responses) {
          fuzzStats.answers++
          fuzzStats.statuses.set(res.status, (fuzzStats.statuses.get(res.status) ?? 0) + 1)
          expect(res.status, res.body).toBeGreaterThanOrEqual(200)
          expect(res.status, res.body).toBeLessThan(500)
          if (res.status === 202) {
            const answer = JSON.parse(res.body) as { accepted: number; rejected: { code: string }[] }
            for (const r of answer.rejected) fuzzStats.errors.set(`e:${r.code}`, (fuzzStats.errors.get(`e:${r.code}`) ?? 0) + 1)
            // The good event beside a bad one was stored (unless DNT/GPC headers dropped the batch, which counts as accepted 0).
            if (good && path === '/v1/batch' && answer.accepted > 0) landed.push(good)
          }
          if (res.status >= 400) {
            const reason = reasonOf(res)
            expect(reason, `${res.status} without a reason: ${res.body.slice(0, 200)}`).toBeDefined()
            fuzzStats.errors.set(reason!, (fuzzStats.errors.get(reason!) ?? 0) + 1)
          }
        }
        if (fuzzStats.cases % 5 === 0) await postValid()
      }),
      { numRuns: FUZZ_RUNS },
    )
    const summary = [...fuzzStats.errors].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`)
    console.log(`[edge-input] ${fuzzStats.cases} cases, ${fuzzStats.answers} answers, statuses ${JSON.stringify(Object.fromEntries(fuzzStats.statuses))}; reasons (e: one event in a 202): ${summary.join(', ')}`)
  })

  it('reads DNT or Sec-GPC sent twice as the signal (Node joins them: "1, 1")', async () => {
    for (const [name, reason] of [
      ['DNT', 'dnt'],
      ['Sec-GPC', 'gpc'],
    ] as const) {
      const body = validText()
      const head = [`POST /v1/batch HTTP/1.1`, `Host: localhost`, `Origin: ${origin}`, 'Content-Type: application/json', `${name}: 1`, `${name}:  1 `, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close']
      const { responses } = await sendRaw([`${head.join('\r\n')}\r\n\r\n`, body])
      expect(responses.map((r) => r.status)).toEqual([202])
      expect(JSON.parse(responses[0]!.body)).toMatchObject({ accepted: 0, dropped: 1, dropped_reason: reason })
    }
  })

  it('rejects events with __proto__, constructor or prototype prop keys one by one while the others land', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const [before, after] = [event(), event({ t: 'click' })]
      const bad = JSON.stringify(event({ p: { plan: 'pro' } })).replace('"plan"', `"${key}":{"polluted":true},"plan"`)
      const text = JSON.stringify(batch([before, after])).replace(`,{"id":"${after.id}"`, `,${bad},{"id":"${after.id}"`)
      const res = await fetch(`${pipeline.ingest}/v1/batch`, { method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', origin }, body: text })
      expect(res.status).toBe(202)
      const answer = (await res.json()) as { accepted: number; rejected: { index: number; code: string; reason: string }[] }
      expect(answer).toMatchObject({ accepted: 2, rejected: [{ index: 1, code: 'invalid_string' }] })
      expect(answer.rejected[0]!.reason).toContain(`p.${key}: prop keys may not be`)
      landed.push(before.id, after.id)
    }
  })

  it('stayed up, counted no 5xx, and stored every valid event sent between the garbage exactly once', async () => {
    expect((await fetch(`${pipeline.ingest}/healthz`)).status).toBe(200)
    const metrics = await (await fetch(`${pipeline.backoffice}/metrics`)).text()
    expect(metrics).not.toMatch(/atspark_ingest_requests_total\{status="5/)
    expect(pipeline.output()).not.toContain('unhandled ingest error')
    expect(await pipeline.stop()).toBe(0)
    const warehouse: ClickHouseClient = openWarehouse(pipeline.dataDir)
    try {
      const ids = landed.map((id) => `'${id}'`).join(',')
      const [counts] = await rows<{ n: string; u: string }>(warehouse, `SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events WHERE event_id IN (${ids})`)
      expect(landed.length).toBeGreaterThan(FUZZ_RUNS / 5)
      expect(counts).toEqual({ n: String(landed.length), u: String(landed.length) })
      console.log(`[edge-input] ${landed.length} valid events interleaved with the garbage, all in the warehouse`)
    } finally {
      await warehouse.close()
    }
  })
})
