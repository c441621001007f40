import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { secureHeaders } from 'hono/secure-headers'
import type { TrustFn } from './client-ip.js'

/** Two years, the usual HSTS preload floor; subdomains of the ingest host are ours too. */
export const HSTS_VALUE = 'max-age=63072000; includeSubDomains'

/**
 * Security headers on every answer: nosniff, no referrer, no framing, same-origin CORP, a CSP that lets a
 * JSON answer do nothing, `Cache-Control: no-store` unless the route chose its caching (the SDK script),
 * HSTS only over HTTPS (directly, or per X-Forwarded-Proto from a trusted proxy), and `Connection: close`
 * on 413 so a client still uploading is cut off instead of drained.
 */
export function edgeHeaders(trust: TrustFn): MiddlewareHandler {
  const base = secureHeaders({
    // The SDK script route sets CORP cross-origin (pages on other origins load it) and its own caching.
    overwrite: false,
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    strictTransportSecurity: false,
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  })
  return async (c, next) => {
    await base(c, next)
    const headers = c.res.headers
    if (!headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store')
    if (isHttps(c, trust)) headers.set('Strict-Transport-Security', HSTS_VALUE)
    if (c.res.status === 413) headers.set('Connection', 'close')
  }
}

/** The request reached us over TLS: our own URL says so, or a trusted proxy's X-Forwarded-Proto does. */
function isHttps(c: Context, trust: TrustFn): boolean {
  if (c.req.url.startsWith('https:')) return true
  const proto = c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  if (proto !== 'https') return false
  const peer = socketAddress(c)
  return peer !== '' && trust(peer, 0)
}

/** Socket peer of the request; empty under `app.request()` without node bindings. */
function socketAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? ''
  } catch {
    return ''
  }
}

/**
 * CORS for the write endpoints: a preflight is answered only for an origin some site allows (anything
 * else gets 403 with a reason, not a grant-less 204), only for POST, never with credentials. The per-site
 * origin check happens on the POST itself.
 */
export function siteCors(allowedOrigins: () => ReadonlySet<string>): MiddlewareHandler {
  const allowed = (origin: string | undefined) => origin !== undefined && allowedOrigins().has(origin.toLowerCase())
  const grant = cors({
    origin: (origin) => (allowed(origin) ? origin : null),
    allowMethods: ['POST'],
    allowHeaders: ['Content-Type'],
    // The SDK reads Retry-After on 429/503 to pace its retries.
    exposeHeaders: ['Retry-After'],
    maxAge: 86_400,
    credentials: false,
  })
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      const origin = c.req.header('origin')
      if (!allowed(origin)) {
        return c.json({ error: 'origin_not_allowed', message: `no site allows origin ${JSON.stringify((origin ?? '(none)').slice(0, 256))}` }, 403)
      }
      const method = c.req.header('access-control-request-method')
      if (method !== undefined && method.toUpperCase() !== 'POST') {
        return c.json({ error: 'method_not_allowed', message: 'only POST may be sent here' }, 403)
      }
    }
    return grant(c, next)
  }
}
