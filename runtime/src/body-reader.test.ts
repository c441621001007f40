import { brotliCompressSync, constants, deflateSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { contentCoding, readBody } from './body-reader.js'
import { IngestError } from './errors.js'

const LIMIT = 4096

/** A request whose body arrives as the given chunks, with no Content-Length (as a chunked upload does). */
function streamed(chunks: Iterable<Uint8Array>, headers: Record<string, string> = {}) {
  const it = chunks[Symbol.iterator]()
  const seen = { pulls: 0, bytes: 0, cancelled: false }
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = it.next()
      if (next.done) return controller.close()
      seen.pulls++
      seen.bytes += next.value.byteLength
      controller.enqueue(next.value)
    },
    cancel() {
      seen.cancelled = true
    },
  })
  return { request: new Request('http://ingest.test/v1/batch', { method: 'POST', body, headers, duplex: 'half' } as RequestInit), seen }
}

function* forever(chunk: Uint8Array): Generator<Uint8Array> {
  for (;;) yield chunk
}

function* repeat(chunk: Uint8Array, times: number): Generator<Uint8Array> {
  for (let i = 0; i < times; i++) yield chunk
}

async function failure(promise: Promise<unknown>): Promise<{ status: number; code: string }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof IngestError)) throw new Error(`expected an IngestError, got ${String(err)}`)
  return { status: err.status, code: err.code }
}

describe('contentCoding', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['identity', 'identity'],
    ['GZIP', 'gzip'],
    ['x-gzip', 'gzip'],
    [' deflate ', 'deflate'],
    ['br', 'br'],
    ['identity, gzip', 'gzip'],
  ])('reads %j as %s', (header, coding) => {
    expect(contentCoding(header)).toBe(coding)
  })

  it.each(['compress', 'zstd', 'gzip, br', 'gzip, gzip', 'chunked', 'deflate-raw'])('refuses %j with 415 unsupported_encoding', (header) => {
    expect(() => contentCoding(header)).toThrow(expect.objectContaining({ status: 415, code: 'unsupported_encoding' }))
  })
})

describe('readBody', () => {
  it('accepts a body of exactly the limit and refuses one byte more with 413', async () => {
    expect((await readBody(streamed([new Uint8Array(LIMIT)]).request, LIMIT)).length).toBe(LIMIT)
    expect(await failure(readBody(streamed([new Uint8Array(LIMIT + 1)]).request, LIMIT))).toEqual({ status: 413, code: 'body_too_large' })
  })

  it('refuses a declared Content-Length over the limit without reading a byte', async () => {
    const { request, seen } = streamed(forever(new Uint8Array(1024)), { 'content-length': String(1024 ** 3) })
    expect(await failure(readBody(request, LIMIT))).toEqual({ status: 413, code: 'body_too_large' })
    // At most the stream's own read-ahead of one chunk: readBody itself reads nothing.
    expect(seen.pulls).toBeLessThanOrEqual(1)
  })

  it('stops reading an endless body without a length just past the limit', async () => {
    const { request, seen } = streamed(forever(new Uint8Array(1000)))
    expect(await failure(readBody(request, LIMIT))).toEqual({ status: 413, code: 'body_too_large' })
    expect(seen.bytes).toBeLessThanOrEqual(LIMIT + 1000 + 2 * 1000)
    expect(seen.cancelled).toBe(true)
  })

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('decodes %s bodies', async (coding, compress) => {
    const text = JSON.stringify({ hello: 'wörld'.repeat(100) })
    const body = await readBody(streamed([compress(Buffer.from(text))], { 'content-encoding': coding }).request, LIMIT)
    expect(body.toString('utf8')).toBe(text)
  })

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', (b: Buffer) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })],
  ] as const)('stops a %s bomb (10 MB of zeros) at the decoded limit', async (coding, compress) => {
    const bomb = compress(Buffer.alloc(10_000_000))
    expect(bomb.length).toBeLessThan(LIMIT * 4)
    expect(await failure(readBody(streamed([bomb], { 'content-encoding': coding }).request, LIMIT))).toEqual({ status: 413, code: 'body_too_large' })
  })

  it('stops a 1 GB gzip bomb after reading a small part of it', async () => {
    // 100 gzip members of 10 MB of zeros each: a valid gzip stream that inflates to 1 GB.
    const member = gzipSync(Buffer.alloc(10_000_000), { level: 9 })
    const { request, seen } = streamed(repeat(member, 100), { 'content-encoding': 'gzip' })
    expect(await failure(readBody(request, LIMIT))).toEqual({ status: 413, code: 'body_too_large' })
    expect(seen.bytes).toBeLessThanOrEqual(4 * member.length)
  })

  it('counts the compressed bytes too: a long stream that inflates to nothing is refused', async () => {
    // Empty gzip members: about 20 bytes each on the wire, 0 decoded.
    const empty = gzipSync(Buffer.alloc(0))
    const { request, seen } = streamed(repeat(empty, 10_000), { 'content-encoding': 'gzip' })
    expect(await failure(readBody(request, LIMIT))).toEqual({ status: 413, code: 'body_too_large' })
    expect(seen.bytes).toBeLessThan(LIMIT * 2)
  })

  it.each([
    ['not gzip at all', 'gzip', Buffer.from('{"v":1}')],
    ['a truncated gzip', 'gzip', gzipSync(Buffer.from('x'.repeat(500))).subarray(0, 20)],
    ['an empty gzip', 'gzip', Buffer.alloc(0)],
    ['raw deflate sent as deflate', 'deflate', Buffer.from([0x4b, 0x4c, 0x4a, 0x06, 0x00])],
    ['garbage brotli', 'br', Buffer.from([0xff, 0xff, 0xff, 0xff])],
  ])('answers %s with 400 bad_compression', async (_name, coding, bytes) => {
    expect(await failure(readBody(streamed([bytes], { 'content-encoding': coding }).request, LIMIT))).toEqual({ status: 400, code: 'bad_compression' })
  })

  it('answers a body stream that breaks with 400 body_incomplete', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10))
        controller.error(new Error('socket hang up'))
      },
    })
    const request = new Request('http://ingest.test/', { method: 'POST', body, duplex: 'half' } as RequestInit)
    expect(await failure(readBody(request, LIMIT))).toEqual({ status: 400, code: 'body_incomplete' })
    const gz = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(gzipSync(Buffer.from('x'.repeat(100))).subarray(0, 12))
        controller.error(new Error('socket hang up'))
      },
    })
    const gzRequest = new Request('http://ingest.test/', { method: 'POST', body: gz, headers: { 'content-encoding': 'gzip' }, duplex: 'half' } as RequestInit)
    expect((await failure(readBody(gzRequest, LIMIT))).status).toBe(400)
  })
})

describe('readIncoming (node IncomingMessage, the served path)', () => {
  /** Serves one request whose body readIncoming reads; resolves with what it read or refused. */
  async function viaHttp(send: (port: number) => void, bodyTimeoutMs?: number): Promise<{ status: number; code: string } | number> {
    const { createServer } = await import('node:http')
    const { readIncoming, setBodyDeadline } = await import('./body-reader.js')
    return new Promise((resolve) => {
      const server = createServer((req, res) => {
        const done = (result: { status: number; code: string } | number) => {
          res.end()
          server.close()
          server.closeAllConnections()
          resolve(result)
        }
        if (bodyTimeoutMs !== undefined) setBodyDeadline(req, bodyTimeoutMs)
        readIncoming(req, LIMIT).then(
          (body) => done(body.length),
          (err: unknown) => done(err instanceof IngestError ? { status: err.status, code: err.code } : -1),
        )
      })
      server.listen(0, '127.0.0.1', () => send((server.address() as { port: number }).port))
    })
  }

  async function post(body: Uint8Array, headers: Record<string, string> = {}) {
    return viaHttp((port) => {
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers }).catch(() => {})
    })
  }

  it('applies the same limits and codes as readBody', async () => {
    expect(await post(new Uint8Array(LIMIT))).toBe(LIMIT)
    expect(await post(new Uint8Array(LIMIT + 1))).toEqual({ status: 413, code: 'body_too_large' })
    expect(await post(gzipSync(Buffer.from('x'.repeat(100))), { 'content-encoding': 'gzip' })).toBe(100)
    expect(await post(gzipSync(Buffer.alloc(LIMIT * 10)), { 'content-encoding': 'gzip' })).toEqual({ status: 413, code: 'body_too_large' })
    expect(await post(Buffer.from('not gzip'), { 'content-encoding': 'gzip' })).toEqual({ status: 400, code: 'bad_compression' })
  })

  it('counts chunked bodies and names a body cut short', async () => {
    const { connect } = await import('node:net')
    const raw = (text: string) => (port: number) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(text))
      socket.on('error', () => {})
    }
    const chunk = `${(LIMIT / 2).toString(16)}\r\n${'x'.repeat(LIMIT / 2)}\r\n`
    expect(await viaHttp(raw(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}${chunk}${chunk}0\r\n\r\n`))).toEqual({ status: 413, code: 'body_too_large' })
    expect(await viaHttp(raw('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort'))).toEqual({ status: 400, code: 'body_incomplete' })
  })
  it('refuses a body that trickles past the deadline with 408 body_timeout, compressed or not, and reads one in time', async () => {
    const { connect } = await import('node:net')
    /** Headers at once, then one byte of the body every 50 ms: seconds in all. */
    const trickle = (body: Buffer, headers: string) => (port: number) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${headers}\r\n`)
        let sent = 0
        const timer = setInterval(() => sent < body.length && socket.write(body.subarray(sent, ++sent)), 50)
        socket.on('close', () => clearInterval(timer))
      })
      socket.on('error', () => {})
    }
    for (const [body, headers] of [
      [Buffer.alloc(100, 'x'), ''],
      [gzipSync(Buffer.alloc(1000, 'x')), 'Content-Encoding: gzip\r\n'],
    ] as const) {
      const started = performance.now()
      expect(await viaHttp(trickle(body, headers), 300)).toEqual({ status: 408, code: 'body_timeout' })
      const waited = performance.now() - started
      expect(waited).toBeGreaterThanOrEqual(290)
      expect(waited).toBeLessThan(1_500)
    }
    expect(await viaHttp((port) => void fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: new Uint8Array(100) }).catch(() => {}), 300)).toBe(100)
  })
})
