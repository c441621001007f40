import { IncomingMessage } from 'node:http'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'
import { clientIp, type TrustFn } from './client-ip.js'

/**
 * Node's IncomingMessage when served by @hono/node-server; undefined under `app.request()` (unit tests pass
 * a bare `{ socket }` as incoming, for the peer address only).
 */
export function nodeIncoming(c: Context): IncomingMessage | undefined {
  const incoming = (c.env as { incoming?: unknown } | undefined)?.incoming
  return incoming instanceof IncomingMessage ? incoming : undefined
}

/**
 * A request header. Served requests read Node's parsed headers: the first `c.req.header()` call would
 * build a whole web Headers object from the raw headers, which costs more than the bare route's request.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const incoming = nodeIncoming(c)
  if (!incoming) return c.req.header(name)
  const value = incoming.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Socket peer of the request; empty under `app.request()` without node bindings. */
export function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? ''
  } catch {
    return ''
  }
}

/** Resolved once per request: the address limit and the IP sealing both need it. */
const clientIpByRequest = new WeakMap<Request, string>()

/** The client address per the trusted-proxy rules (client-ip.ts), resolved once per request. */
export function requestClientIp(c: Context, trust: TrustFn): string {
  let ip = clientIpByRequest.get(c.req.raw)
  if (ip === undefined) {
    ip = clientIp(socketAddress(c), requestHeader(c, 'x-forwarded-for'), trust)
    clientIpByRequest.set(c.req.raw, ip)
  }
  return ip
}
