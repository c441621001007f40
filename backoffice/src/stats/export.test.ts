import { createLogger, TenantDirectory } from '@atspark/runtime'
import { strFromU8, unzipSync } from 'fflate'
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { describe, expect, it } from 'vitest'
import type { StatsEnv, StatsRouteContext } from './context.js'
import { csvFormat } from './csv.js'
import { EXPORT_PANELS, internalPrincipal, panelUrl, registerExport } from './export.js'
import { DEFAULT_LIMITS } from './queries.js'

/** A stats app in miniature: the real auth hook order, csvFormat and export, and panels answering what they were asked. */
function miniApp(failOn?: string) {
  const app = new Hono<StatsEnv>()
  const seen: { path: string; query: Record<string, string>; org: string }[] = []
  app.use(
    '*',
    createMiddleware<StatsEnv>(async (c, next) => {
      const principal = internalPrincipal(c.req.raw) ?? (c.req.header('authorization') === 'Bearer good' ? { orgId: 'org-a', keyId: 'k', role: 'analyst' as const } : undefined)
      if (!principal) return c.json({ error: 'unauthorized', message: 'no' }, 401)
      c.set('principal', principal)
      await next()
    }),
  )
  app.use('*', csvFormat())
  const ctx = {
    siteOf: (c: { get: (k: 'principal') => { orgId: string } }, site: string | undefined) => ({ org: c.get('principal').orgId, site: site ?? 'web', horizon: 0 }),
    now: () => Date.parse('2026-11-28T12:00:00Z'),
    k: 5,
    limits: DEFAULT_LIMITS,
    logger: createLogger('export-test', 'silent'),
    tenants: () => TenantDirectory.from({ orgs: [] }),
  } as unknown as StatsRouteContext
  registerExport(app, ctx)
  for (const path of ['/aggregate', '/timeseries', '/breakdown'])
    app.get(path, (c) => {
      const query = c.req.query()
      seen.push({ path, query, org: c.get('principal').orgId })
      if (failOn && query.dimension === failOn) return c.json({ error: 'invalid_filter', message: 'bad clause', param: 'filters' }, 400)
      return c.json({ site: query.site, from: '2026-11-01', to: '2026-11-08', rows: [{ value: `=${query.dimension ?? path}`, visitors: 5, events: 7 }], other: null })
    })
  return { app, seen }
}

describe('GET /export', () => {
  it('a zip with one CSV per panel, each the panel’s own format=csv answer, asked as the exporting principal', async () => {
    const { app, seen } = miniApp()
    const res = await app.request('/export?site=web&from=2026-11-01&to=2026-11-08&filters=country%3D%3DDE', { headers: { authorization: 'Bearer good' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/zip')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="web-export-2026-11-01-2026-11-08.zip"')
    const files = unzipSync(new Uint8Array(await res.arrayBuffer()))
    expect(Object.keys(files).sort()).toEqual(EXPORT_PANELS.map((p) => p.file).sort())
    expect(seen).toHaveLength(EXPORT_PANELS.length)
    expect(seen.every((s) => s.org === 'org-a' && s.query.filters === 'country==DE' && s.query.from === '2026-11-01' && s.query.format === 'csv')).toBe(true)
    for (const panel of EXPORT_PANELS) {
      const own = await app.request(panelUrl(panel, { site: 'web', from: '2026-11-01', to: '2026-11-08', filters: 'country==DE' }).replace('http://stats.internal', ''), {
        headers: { authorization: 'Bearer good' },
      })
      expect(strFromU8(files[panel.file] ?? new Uint8Array()), panel.file).toBe(await own.text())
    }
    expect(strFromU8(files['pages.csv'] ?? new Uint8Array())).toBe("value,visitors,events\r\n'=url_path,5,7\r\n")
  })

  it('a panel’s refusal is the export’s; without a key nothing is asked', async () => {
    const { app, seen } = miniApp('channel')
    const res = await app.request('/export?site=web', { headers: { authorization: 'Bearer good' } })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_filter', param: 'filters' })
    const { app: app2, seen: seen2 } = miniApp()
    expect((await app2.request('/export?site=web')).status).toBe(401)
    expect(seen2).toHaveLength(0)
    expect(seen.length).toBeLessThan(EXPORT_PANELS.length)
  })
})
