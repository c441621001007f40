import { StatsInstant, StatsTimeZone } from '@atspark/schemas'
import { strToU8, zipSync } from 'fflate'
import type { Hono } from 'hono'
import { z } from 'zod'
import { parseQuery, type StatsEnv, type StatsPrincipal, type StatsRouteContext } from './context.js'
import { filenamePart } from './csv.js'
import { resolveRange } from './queries.js'

/**
 * GET /export: the whole dashboard as a zip of CSVs, one per panel. Each CSV is the stats app's own answer
 * to `format=csv` of that panel's request (same handlers, same k rules, the request's range and filters),
 * asked in process as the principal that asked for the export, so nothing here can show more than the API.
 */

/** Requests the export makes of its own app, with the principal already authenticated for the export. */
const internal = new WeakMap<Request, StatsPrincipal>()

/** The principal of a request the export made in process; undefined for every request from outside (the map holds only objects made here). */
export function internalPrincipal(request: Request): StatsPrincipal | undefined {
  return internal.get(request)
}

export interface ExportPanel {
  file: string
  /** Path and the panel's own parameters, under the stats app. */
  path: string
  params: Record<string, string>
}

const breakdown = (file: string, dimension: string, extra: Record<string, string> = {}): ExportPanel => ({
  file,
  path: '/breakdown',
  params: { dimension, limit: '100', ...extra },
})

/** The dashboard's panels, as the contract names their files. */
export const EXPORT_PANELS: readonly ExportPanel[] = [
  { file: 'aggregate.csv', path: '/aggregate', params: { compare: 'previous_period' } },
  { file: 'timeseries.csv', path: '/timeseries', params: { interval: 'day' } },
  breakdown('pages.csv', 'url_path', { type: 'pageview' }),
  breakdown('entry_pages.csv', 'entry_page'),
  breakdown('exit_pages.csv', 'exit_page'),
  breakdown('referrers.csv', 'referrer_host'),
  breakdown('channels.csv', 'channel'),
  breakdown('utm_source.csv', 'utm_source'),
  breakdown('utm_medium.csv', 'utm_medium'),
  breakdown('utm_campaign.csv', 'utm_campaign'),
  breakdown('countries.csv', 'country'),
  breakdown('browsers.csv', 'browser'),
  breakdown('os.csv', 'os'),
  breakdown('devices.csv', 'device_type'),
  // One file per tab of the dashboard's Events panel: names of one type each (a pageview has no name).
  breakdown('events_custom.csv', 'name', { type: 'custom' }),
  breakdown('events_click.csv', 'name', { type: 'click' }),
  breakdown('events_feature.csv', 'name', { type: 'feature' }),
  breakdown('events_query.csv', 'name', { type: 'query' }),
  breakdown('goals.csv', 'goal'),
]

export const ExportQuery = z.object({
  site: z.string().min(1).max(63).optional(),
  from: StatsInstant.optional(),
  to: StatsInstant.optional(),
  tz: StatsTimeZone,
  // Checked by each panel's own schema (the same one as everywhere): the first panel refuses a bad one with its 400.
  filters: z.string().optional(),
})

/** The request of one panel: the export's site, range, zone and filters, as given, plus the panel's own. */
export function panelUrl(panel: ExportPanel, given: Record<string, string>): string {
  const params = new URLSearchParams()
  for (const key of ['site', 'from', 'to', 'tz', 'filters'] as const) {
    const v = given[key]
    if (v !== undefined) params.set(key, v)
  }
  for (const [k, v] of Object.entries(panel.params)) params.set(k, v)
  params.set('format', 'csv')
  return `http://stats.internal${panel.path}?${params}`
}

export function registerExport(app: Hono<StatsEnv>, ctx: StatsRouteContext): void {
  app.get('/export', async (c) => {
    const q = parseQuery(ExportQuery, c.req.query())
    const { site } = ctx.siteOf(c, q.site)
    const range = resolveRange(q, q.tz, ctx.now())
    const given = { ...c.req.query(), site }
    const principal = c.get('principal')
    const files: Record<string, Uint8Array> = {}
    // One at a time: the panels share the warehouse with every other request.
    for (const panel of EXPORT_PANELS) {
      const request = new Request(panelUrl(panel, given))
      internal.set(request, principal)
      const res = await app.request(request)
      // A panel's refusal (a bad filter, a range past retention) is the export's: same status, same reason.
      if (res.status !== 200) return new Response(res.body, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } })
      files[panel.file] = strToU8(await res.text())
    }
    const name = [site, 'export', range.from, range.to].map(filenamePart).join('-')
    return c.body(zipSync(files, { level: 6 }), 200, {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="${name}.zip"`,
    })
  })
}
