import type { Context, MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import type { TrustFn } from './client-ip.js'
import { requestHeader, socketAddress } from './request-info.js'

/** Two years, the usual HSTS preload floor; subdomains of the ingest host are ours too. */
export const HSTS_VALUE = 'max-age=63072000; includeSubDomains'

/**
 * What hono's secureHeaders sent with our options (helmet's defaults, our CSP, DENY, no-referrer), written out
 * so the write routes can answer with plain headers: the 202 path then never materialises a Headers object.
 * `edge-headers.test.ts` pins every answer's full header set.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
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
  'cache-control': 'no-store',
}

/** The headers this request's answer gets, gathered by the middleware before the response exists. */
const answerHeadersByRequest = new WeakMap<Request, Record<string, string>>()
/** Responses built by `answerJson`, whose headers are complete already. */
const completeAnswers = new WeakSet<Response>()

function answerHeaders(c: Context): Record<string, string> {
  let headers = answerHeadersByRequest.get(c.req.raw)
  if (!headers) {
    headers = { ...SECURITY_HEADERS }
    answerHeadersByRequest.set(c.req.raw, headers)
  }
  return headers
}

/**
 * A JSON answer with every edge header set up front (plain object headers): @hono/node-server writes it
 * without building a Headers object or copying the response. The hot write routes answer this way.
 */
export function answerJson(c: Context, status: number, body: unknown): Response {
  const res = new Response(JSON.stringify(body), { status, headers: { ...answerHeaders(c), 'content-type': 'application/json' } })
  completeAnswers.add(res)
  return res
}

/**
 * Security headers on every answer: nosniff, no referrer, no framing, same-origin CORP, a CSP that lets a
 * JSON answer do nothing, `Cache-Control: no-store` unless the route chose its caching (the SDK script),
 * HSTS only over HTTPS (directly, or per X-Forwarded-Proto from a trusted proxy), and `Connection: close`
 * on 413 so a client still uploading is cut off instead of drained. Answers not built by `answerJson`
 * (errors, 404s, preflights, the SDK script) get them added afterwards, without overriding the route's own.
 */
export function edgeHeaders(trust: TrustFn): MiddlewareHandler {
  return async (c, next) => {
    const wanted = answerHeaders(c)
    if (isHttps(c, trust)) wanted['strict-transport-security'] = HSTS_VALUE
    await next()
    if (completeAnswers.has(c.res)) return
    const headers = c.res.headers
    for (const name in wanted) if (!headers.has(name)) headers.set(name, wanted[name] as string)
    if (c.res.status === 413) headers.set('Connection', 'close')
  }
}

/** The request reached us over TLS: our own URL says so, or a trusted proxy's X-Forwarded-Proto does. */
function isHttps(c: Context, trust: TrustFn): boolean {
  if (c.req.url.startsWith('https:')) return true
  const proto = requestHeader(c, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase()
  if (proto !== 'https') return false
  const peer = socketAddress(c)
  return peer !== '' && trust(peer, 0)
}

/** The SDK reads Retry-After on 429/503 to pace its retries. */
const EXPOSED = 'Retry-After'

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
    exposeHeaders: [EXPOSED],
    maxAge: 86_400,
    credentials: false,
  })
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      const origin = requestHeader(c, 'origin')
      if (!allowed(origin)) {
        return c.json({ error: 'origin_not_allowed', message: `no site allows origin ${JSON.stringify((origin ?? '(none)').slice(0, 256))}` }, 403)
      }
      const method = requestHeader(c, 'access-control-request-method')
      if (method !== undefined && method.toUpperCase() !== 'POST') {
        return c.json({ error: 'method_not_allowed', message: 'only POST may be sent here' }, 403)
      }
      return grant(c, next)
    }
    // As hono's cors answers a simple request, but into the answer's headers before it exists.
    const wanted = answerHeaders(c)
    const origin = requestHeader(c, 'origin')
    if (origin !== undefined && allowed(origin)) wanted['access-control-allow-origin'] = origin
    wanted['access-control-expose-headers'] = EXPOSED
    wanted.vary = 'Origin'
    return next()
  }
}
