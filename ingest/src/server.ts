import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'

export interface RunningServer {
  port: number
  /** Stops accepting connections and resolves when in-flight requests have finished. */
  close(): Promise<void>
}

/** Starts a Hono app on node:http and resolves once it listens (port 0 picks a free port). */
export function listen(app: Hono, port: number, hostname: string): Promise<RunningServer> {
  let closing = false
  const fetch: typeof app.fetch = async (req, env, ctx) => {
    const res = await app.fetch(req, env, ctx)
    // While stopping, busy keep-alive clients are told to hang up after this answer instead of sending more.
    if (closing) res.headers.set('Connection', 'close')
    return res
  }
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done, fail) => {
            closing = true
            server.close((err) => (err ? fail(err) : done()))
            // Idle keep-alive sockets would hold close() open; busy ones finish their request first.
            if ('closeIdleConnections' in server) server.closeIdleConnections()
          }),
      })
    })
    server.once('error', reject)
  })
}
