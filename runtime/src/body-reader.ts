import type { IncomingMessage } from 'node:http'
import { Readable, Transform, type TransformCallback, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as NodeWebStream } from 'node:stream/web'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { InputErrorCode } from '@atspark/schemas'
import { BadRequestError, BodyTimeoutError, IngestError, PayloadTooLargeError, UnsupportedEncodingError } from './errors.js'

/** Content codings ingest decodes; anything else is refused before a byte is read. */
export const ACCEPTED_ENCODINGS = ['identity', 'gzip', 'deflate', 'br'] as const
export type AcceptedEncoding = (typeof ACCEPTED_ENCODINGS)[number]

/** The one coding a Content-Encoding header names; stacked codings are refused, as no client needs them. */
export function contentCoding(header: string | null | undefined): AcceptedEncoding {
  const codings = (header ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity')
  if (codings.length === 0) return 'identity'
  const [coding] = codings
  // x-gzip is gzip by another name (RFC 9110 §8.4.1.3).
  const named = coding === 'x-gzip' ? 'gzip' : coding
  if (codings.length === 1 && (named === 'gzip' || named === 'deflate' || named === 'br')) return named
  throw new UnsupportedEncodingError(header ?? '')
}

/**
 * Reads a request body into memory without ever holding more than `limit` bytes of it: a declared
 * Content-Length over the limit is refused unread, the wire bytes are counted as they arrive (chunked
 * bodies too), and a compressed body is inflated as a stream that stops at `limit` decoded bytes, so a
 * decompression bomb costs at most `limit` plus one zlib chunk. Errors are IngestErrors (413, 415, 400).
 */
export async function readBody(request: Request, limit: number): Promise<Buffer> {
  const coding = contentCoding(request.headers.get('content-encoding'))
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw new PayloadTooLargeError(limit, 'declared Content-Length')
  if (!request.body) return Buffer.alloc(0)
  if (coding === 'identity') return readPlain(request.body, limit)
  return readCompressed(request.body, coding, limit)
}

/** When each served request's body must have arrived (performance.now() ms), as the server stamped it. */
const bodyDeadlines = new WeakMap<IncomingMessage, { at: number; timeoutMs: number }>()

/**
 * The server stamps each request as its headers arrive: its body must follow within `timeoutMs`, or reading it
 * fails with 408 body_timeout. A slow upload then holds its in-flight slot that long at most, whatever it trickles.
 */
export function setBodyDeadline(incoming: IncomingMessage, timeoutMs: number): void {
  bodyDeadlines.set(incoming, { at: performance.now() + timeoutMs, timeoutMs })
}

/** Arms the request's body deadline, if the server set one; `clear` disarms it. */
function armDeadline(incoming: IncomingMessage, onExpired: (err: BodyTimeoutError) => void): { clear: () => void } {
  const deadline = bodyDeadlines.get(incoming)
  if (!deadline) return { clear: () => {} }
  const timer = setTimeout(() => onExpired(new BodyTimeoutError(deadline.timeoutMs)), Math.max(0, deadline.at - performance.now()))
  return { clear: () => clearTimeout(timer) }
}

/**
 * readBody straight from node's IncomingMessage, with the same limits and errors: going through
 * `c.req.raw.body` makes @hono/node-server build a whole undici Request first (profile-notes.md).
 * A body not arrived by the server's deadline (setBodyDeadline) fails with 408 body_timeout.
 */
export async function readIncoming(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  const coding = contentCoding(incoming.headers['content-encoding'])
  const declared = incoming.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) throw new PayloadTooLargeError(limit, 'declared Content-Length')
  if (coding === 'identity') return readPlainIncoming(incoming, limit)
  const timedOut = new AbortController()
  let expired: BodyTimeoutError | undefined
  const deadline = armDeadline(incoming, (err) => {
    expired = err
    timedOut.abort(err)
  })
  try {
    // An iterator that leaves the request alive when we stop early: destroying it would cut the socket before the 413 goes out.
    return await readCompressed(incoming.iterator({ destroyOnReturn: false }), coding, limit, timedOut.signal)
  } catch (err) {
    throw expired ?? err
  } finally {
    deadline.clear()
  }
}

function readPlainIncoming(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  // Already over: a body that ended (or broke) before we looked.
  if (incoming.readableEnded) return Promise.resolve(Buffer.alloc(0))
  if (incoming.destroyed) return Promise.reject(asBodyError(incoming.errored))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const deadline = armDeadline(incoming, (err) => fail(err))
    const stop = () => {
      deadline.clear()
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('error', onError)
      incoming.off('close', onClose)
    }
    const fail = (err: unknown) => {
      stop()
      // Stop reading at once; the lingering close (server.ts) reads off the rest after the answer.
      incoming.pause()
      reject(asBodyError(err))
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) fail(new PayloadTooLargeError(limit, 'body'))
      else chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    }
    const onError = (err: Error) => fail(err)
    // Closed before 'end': the client went away mid-body.
    const onClose = () => fail(incoming.errored ?? new Error('request closed before the body ended'))
    incoming.on('data', onData)
    incoming.once('end', onEnd)
    incoming.once('error', onError)
    incoming.once('close', onClose)
  })
}

/** The uncompressed path, on the web stream directly: it is the common one and needs no Node streams. */
async function readPlain(body: ReadableStream<Uint8Array>, limit: number): Promise<Buffer> {
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) throw new PayloadTooLargeError(limit, 'body')
      chunks.push(value)
    }
  } catch (err) {
    throw asBodyError(err)
  } finally {
    // Stop reading at once on error; the server closes the connection after answering.
    reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks, size)
}

async function readCompressed(
  body: ReadableStream<Uint8Array> | AsyncIterable<Buffer>,
  coding: Exclude<AcceptedEncoding, 'identity'>,
  limit: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const decoder = coding === 'gzip' ? createGunzip() : coding === 'deflate' ? createInflate() : createBrotliDecompress()
  const chunks: Buffer[] = []
  let wire = 0
  let decoded = 0
  const countWire = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      wire += chunk.length
      done(wire > limit ? new PayloadTooLargeError(limit, 'compressed body') : null, chunk)
    },
  })
  const collect = new Writable({
    // One decoded chunk at a time: the decoder waits for us, so it never runs ahead of the cap.
    highWaterMark: 1,
    write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void) {
      decoded += chunk.length
      if (decoded > limit) return done(new PayloadTooLargeError(limit, 'decompressed body'))
      chunks.push(chunk)
      done()
    },
  })
  try {
    const source = body instanceof ReadableStream ? Readable.fromWeb(body as NodeWebStream<Uint8Array>) : body
    await (signal ? pipeline(source, countWire, decoder, collect, { signal }) : pipeline(source, countWire, decoder, collect))
  } catch (err) {
    if (err instanceof IngestError) throw err
    // The decoder failed: corrupt, truncated or not in the coding the header claims.
    if (decoder.errored === err) throw new BadRequestError(InputErrorCode.badCompression, `body is not valid ${coding}`)
    throw asBodyError(err)
  }
  return Buffer.concat(chunks, decoded)
}

/** Our own errors pass; a broken stream (client gone, length lie) is the client's fault, never a 5xx. */
function asBodyError(err: unknown): IngestError {
  if (err instanceof IngestError) return err
  return new BadRequestError(InputErrorCode.bodyIncomplete, 'the request body ended early or could not be read', err)
}
