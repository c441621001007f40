import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { RequestError } from '@hono/node-server'

const JSON_HEADERS = {
  'Content-Type': 'application/json; charset=UTF-8',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
}

/**
 * The answer when @hono/node-server cannot even build a Request (a bad Host header or request target):
 * 400 with a reason instead of its bare 400. Anything else reaching here is our bug, and says so.
 */
export function answerRequestError(err: unknown): Response {
  if (err instanceof RequestError) {
    return new Response(JSON.stringify({ error: 'bad_request', message: `unusable request: ${err.message}`.slice(0, 200) }), { status: 400, headers: JSON_HEADERS })
  }
  return new Response(JSON.stringify({ error: 'internal', message: 'internal error' }), { status: 500, headers: JSON_HEADERS })
}

type ParserError = Error & { code?: string }

/** How long a refused connection stays open for the client to read its answer. */
const LINGER_MS = 2_000

/** Status, code and message for a request Node's HTTP parser refused; undefined when nobody is left to answer. */
function refusal(err: ParserError): [number, string, string, string] | undefined {
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large', 'headers_too_large', 'request headers are too large']
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout', 'request_timeout', 'the request did not arrive in time']
  if (err.code?.startsWith('HPE_')) return [400, 'Bad Request', 'bad_request', `malformed HTTP request (${err.code})`]
  return undefined
}

/**
 * Requests Node's HTTP parser refuses (bad framing, Content-Length/Transfer-Encoding conflicts, header
 * overflow, timeouts) never reach Hono; answer them with a JSON reason like every other 4xx, then close.
 */
export function answerClientErrors(server: Server, onRefused?: (status: number, reason: string) => void): void {
  const refused = new WeakSet<Duplex>()
  server.on('clientError', (err: ParserError, socket: Duplex) => {
    // More bytes of a request already refused raise this again: the answer is on its way, leave the socket be.
    if (refused.has(socket)) return
    const answered = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
    const answer = refusal(err)
    if (!answer || !socket.writable || answered) {
      socket.destroy()
      return
    }
    refused.add(socket)
    // Destroying at once would reset the connection while the client still sends, and it could lose the answer unread.
    setTimeout(() => socket.destroy(), LINGER_MS).unref()
    const [status, text, code, message] = answer
    onRefused?.(status, code)
    const body = JSON.stringify({ error: code, message })
    const head = Object.entries({ ...JSON_HEADERS, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')
    socket.end(`HTTP/1.1 ${status} ${text}\r\n${head}\r\n${body}`)
  })
}
