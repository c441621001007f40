import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createDashboardApp, DASHBOARD_CSP } from './routes.js'

const dir = mkdtempSync(join(tmpdir(), 'atspark-dashboard-'))
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>dashboard</title>')
writeFileSync(join(dir, 'app.js'), 'console.log(1)')
writeFileSync(join(dir, 'app.css'), 'body{}')
writeFileSync(join(dir, 'licenses.txt'), 'MIT')
const app = createDashboardApp({ assetsDir: pathToFileURL(`${dir}/`) })

describe('dashboard routes', () => {
  it('serves the page with the strict CSP and hardening headers', async () => {
    const res = await app.request('/dashboard')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(await res.text()).toContain('<title>dashboard</title>')
    expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
  })

  it('the CSP allows only its own origin: no inline code, no third parties, no framing', () => {
    const directives = Object.fromEntries(DASHBOARD_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]))
    expect(directives).toMatchObject({
      'default-src': "'none'",
      'script-src': "'self'",
      'style-src': "'self'",
      'connect-src': "'self'",
      'img-src': "'self' data:",
      'frame-ancestors': "'none'",
    })
    expect(DASHBOARD_CSP).not.toMatch(/unsafe|https?:|\*/)
  })

  it('serves the bundle, the styles and the licences with their types and the same CSP', async () => {
    for (const [path, type, body] of [
      ['/dashboard/app.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
      ['/dashboard/app.css', 'text/css; charset=utf-8', 'body{}'],
      ['/dashboard/licenses.txt', 'text/plain; charset=utf-8', 'MIT'],
    ] as const) {
      const res = await app.request(path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type')).toBe(type)
      expect(res.headers.get('content-security-policy')).toBe(DASHBOARD_CSP)
      expect(await res.text()).toBe(body)
    }
  })

  it('sends / and /dashboard/ to the page', async () => {
    const root = await app.request('/')
    expect(root.status).toBe(302)
    expect(root.headers.get('location')).toBe('/dashboard')
    const slash = await app.request('/dashboard/')
    expect(slash.headers.get('location')).toBe('/dashboard')
  })

  it('says so when the page was not built, and serves nothing else from the directory', async () => {
    const unbuilt = createDashboardApp({ assetsDir: pathToFileURL(join(dir, 'missing/')) })
    const res = await unbuilt.request('/dashboard/app.js')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ error: 'not_built' })
    expect((await app.request('/dashboard/../index.html')).status).not.toBe(200)
    expect((await app.request('/dashboard/routes.js')).status).toBe(404)
  })
})
