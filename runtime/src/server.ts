import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import type { Hono } from 'hono'
import { setBodyDeadline } from './body-reader.js'
import { answerClientErrors, answerRequestError } from './client-errors.js'
import { type ConnectionLimits, limitConnections } from './connection-limits.js'
import { finishReading } from './lingering-close.js'

export interface RunningServer {
  port: number
  /**
   * Stops accepting connections and resolves when in-flight requests have finished; with
   * `graceMs`, connections still open after it are cut so close() resolves anyway.
   */
  close(graceMs?: number): Promise<void>
}

export interface ListenOptions {
  /** Headers and body must have arrived within this long, or the socket is closed (slow clients cannot pin memory). */
  requestTimeoutMs?: number
  /** A body read by the app must have arrived within this long after the headers, or 408 body_timeout (body-reader.ts). Unset: only requestTimeoutMs. */
  bodyTimeoutMs?: number
  /** Bounds on open connections, in total and per peer address (connection-limits.ts). Unset: none. */
  connections?: ConnectionLimits
  /** Told of each request refused before it reached the app (malformed HTTP, oversized headers, timeouts), for the request counter. */
  onRefused?: (status: number, reason: string) => void
}

/** Starts a Hono app on node:http and resolves once it listens (port 0 picks a free port). */
export function listen(app: Hono, port: number, hostname: string, options: ListenOptions = {}): Promise<RunningServer> {
  let closing = false
  const fetch: typeof app.fetch = async (req, env, ctx) => {
    const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming
    if (incoming && options.bodyTimeoutMs !== undefined) setBodyDeadline(incoming, options.bodyTimeoutMs)
    const res = await app.fetch(req, env, ctx)
    // While stopping, busy keep-alive clients are told to hang up after this answer instead of sending more.
    if (closing) res.headers.set('Connection', 'close')
    // An early 4xx left body bytes unread: read them off first, or closing could reset the answer away (lingering-close.ts).
    await finishReading(incoming)
    // A body still not all here (a slow upload timed out, an early answer to one): hang up, or its sender keeps the connection.
    if (incoming && !incoming.complete) res.headers.set('Connection', 'close')
    return res
  }
  const requestTimeout = options.requestTimeoutMs ?? 30_000
  // Headers come first and are small: they get the shorter of 10 s and the request bound.
  const headersTimeout = Math.min(10_000, requestTimeout)
  // Node checks both timeouts only every connectionsCheckingInterval (30 s by default): without this, unfinished headers hold a socket for up to 40 s.
  const serverOptions = { requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(1_000, headersTimeout) }
  return new Promise((resolve, reject) => {
    // serve() minus its bare-400 answers: requests too broken for Hono still get a JSON reason (client-errors.ts).
    const errorHandler = (err: unknown) => {
      const res = answerRequestError(err)
      options.onRefused?.(res.status, res.status === 400 ? 'bad_request' : 'internal')
      return res
    }
    const server = createServer(serverOptions, getRequestListener(fetch, { hostname, errorHandler }))
    answerClientErrors(server, options.onRefused)
    if (options.connections) limitConnections(server, options.connections)
    server.listen(port, hostname, () => {
      const info = server.address() as AddressInfo
      resolve({
        port: info.port,
        close: (graceMs?: number) =>
          new Promise<void>((done, fail) => {
            closing = true
            server.close((err) => (err ? fail(err) : done()))
            // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
            if ('closeIdleConnections' in server) server.closeIdleConnections()
            if (graceMs !== undefined && 'closeAllConnections' in server) {
              setTimeout(() => server.closeAllConnections(), graceMs).unref()
            }
          }),
      })
    })
    server.once('error', reject)
  })
}
