import { type Context, Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { createStatsApp, type StatsApiDeps } from '../stats/api.js'
import type { StatsPrincipal } from '../stats/context.js'
import { SHARE_NOT_FOUND, type SharedPrincipal, type SharesDeps, sharedLinkAccess } from './api.js'
import { hashIfWellFormed } from './tokens.js'

/** The link's expiry (ISO) on every answer of the stats API behind it. */
export const SHARE_EXPIRES_HEADER = 'X-Share-Expires-At'

type Access = (c: Context, tokenHash: string | undefined, path: string) => Promise<SharedPrincipal | Response>

/**
 * The stats API behind a shared link, mounted at /v1/shared: `/<token>/stats/<endpoint>` opens the link
 * (sharedLinkAccess: 404, 429 or 503, audited), then hands the stats app a request for `/<endpoint>` alone
 * with the link's principal (its org, role `shared`, its one site). The stats app never sees the token,
 * so no log line, error or query id of it can carry one. Each answer carries the link's expiry (X-Share-Expires-At).
 */
export function createSharedStatsApp(shares: SharesDeps, stats: StatsApiDeps): Hono {
  const access: Access = sharedLinkAccess(shares)
  // The principal travels with the one Request object made for it: nothing a client sends can set it.
  const principals = new WeakMap<Request, StatsPrincipal>()
  const statsApp = createStatsApp(stats, { authenticate: async (c) => principals.get(c.req.raw) ?? c.json(SHARE_NOT_FOUND, 404) })
  const app = new Hono()
  const forward = async (c: Context) => {
    const token = c.req.param('token')
    const url = new URL(c.req.url)
    const segments = url.pathname.split('/')
    const at = segments.indexOf('stats', segments.indexOf(token ?? '') + 1)
    const endpoint = `/${segments.slice(at + 1).join('/')}`
    const principal = await access(c, hashIfWellFormed(token), endpoint)
    if (principal instanceof Response) return principal
    url.pathname = endpoint
    const inner = new Request(url, { method: c.req.method, headers: c.req.raw.headers, signal: c.req.raw.signal })
    principals.set(inner, principal)
    const res = await statsApp.fetch(inner, c.env)
    // Every answer, whatever its status, tells the page when the link stops working.
    const answer = new Response(res.body, res)
    answer.headers.set(SHARE_EXPIRES_HEADER, principal.expiresAt)
    return answer
  }
  app.get('/:token/stats', forward)
  app.get('/:token/stats/*', forward)
  return app
}

/** The dashboard page at /share/<token>: opened (and audited) like an API use, before the page is served. */
export function sharedPageGuard(shares: SharesDeps) {
  const access: Access = sharedLinkAccess(shares)
  return createMiddleware(async (c, next) => {
    const opened = await access(c, hashIfWellFormed(c.req.param('token')), '/share')
    if (opened instanceof Response) return opened
    await next()
  })
}
