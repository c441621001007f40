import { readFile } from 'node:fs/promises'
import { type Context, Hono, type MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'

/** The page's policy: its own bundle and the stats API, nothing inline, nothing third-party, never framed. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  // The sign-in form is handled by script; a fallback submit must never carry the key anywhere.
  "form-action 'none'",
].join('; ')

/** What the build (dashboard/build.ts) writes to dist/dashboard/static, by the path it is served at. */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/dashboard': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/dashboard/licenses.txt': { file: 'licenses.txt', type: 'text/plain; charset=utf-8' },
}

export interface DashboardOptions {
  /** Where the built page lives; default dist/dashboard/static beside this module. */
  assetsDir?: URL
}

/**
 * The analyst dashboard: a static page (bundled by the build) that signs in with an API key and reads the stats API.
 * With `sharePage` (which opens and audits a shared link, or answers 404), the same page is also served at
 * /share/<token>, where it runs read-only against /v1/shared/<token>/stats; a link that does not open gets
 * the same page with status 404 (its API calls answer 404 too, so it shows why).
 */
export function createDashboardApp(options: DashboardOptions = {}, sharePage?: MiddlewareHandler): Hono {
  const dir = options.assetsDir ?? new URL('./static/', import.meta.url)
  // Read once on first use, so a back office built without the page still serves its APIs.
  const cache = new Map<string, Promise<Buffer>>()
  const load = (file: string): Promise<Buffer> => {
    let body = cache.get(file)
    if (!body) {
      body = readFile(new URL(file, dir))
      cache.set(file, body)
      body.catch(() => cache.delete(file))
    }
    return body
  }

  const app = new Hono()
  app.use('/dashboard/*', securityHeaders)
  app.use('/dashboard', securityHeaders)
  app.get('/', (c) => c.redirect('/dashboard', 302))
  app.get('/dashboard/', (c) => c.redirect('/dashboard', 301))
  const serve = (asset: { file: string; type: string }) => async (c: Context) => {
    const body = await load(asset.file).catch(() => undefined)
    if (!body) return c.json({ error: 'not_built', message: 'the dashboard is not built: run npm run build' }, 503)
    c.header('Content-Type', asset.type)
    return c.body(new Uint8Array(body))
  }
  /** A link that does not open still gets the page (status 404), which shows its own "this link does not work" screen. */
  const goneAsPage = (asset: { file: string; type: string }) =>
    createMiddleware(async (c, next) => {
      await next()
      if (c.res.status !== 404) return
      const body = await load(asset.file).catch(() => undefined)
      // Not built: the JSON 404 stays, which still says the link does not open.
      if (body) c.res = new Response(new Uint8Array(body), { status: 404, headers: { 'Content-Type': asset.type } })
    })
  for (const [path, asset] of Object.entries(ASSETS)) app.get(path, serve(asset))
  if (sharePage) {
    // The address holds a secret: never stored by a cache (registered first, so it has the last word).
    app.use('/share/:token', noStore)
    app.use('/share/:token', securityHeaders)
    const page = ASSETS['/dashboard']
    if (page) app.get('/share/:token', goneAsPage(page), sharePage, serve(page))
  }
  return app
}

const noStore = createMiddleware(async (c, next) => {
  await next()
  c.header('Cache-Control', 'no-store')
})

/** Every dashboard response: the strict CSP and the usual hardening headers. */
const securityHeaders = createMiddleware(async (c, next) => {
  await next()
  c.header('Content-Security-Policy', DASHBOARD_CSP)
  c.header('X-Content-Type-Options', 'nosniff')
  c.header('Referrer-Policy', 'no-referrer')
  c.header('Cross-Origin-Opener-Policy', 'same-origin')
  c.header('Cross-Origin-Resource-Policy', 'same-origin')
  // The page's files change with every build: revalidate rather than serve a stale bundle. Anything else
  // under /dashboard (a 404, not_built) is never stored, like every other back-office answer.
  c.header('Cache-Control', c.res.ok ? 'no-cache' : 'no-store')
})
