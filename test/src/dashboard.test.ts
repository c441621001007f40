import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AdoptionResponse, BreakdownResponse, ConsentResponse, TimeseriesResponse, type WireEvent } from '@atspark/schemas'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, IPHONE_UA, post } from './support/batches.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'

// The analyst dashboard in real Chromium against the built back office of a running embedded
// pipeline: known traffic for two sites of one org goes in through ingest, and every number the
// page shows must be the stats API's answer for what the page asked.

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))
/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) })
const README_SCREENSHOT = fileURLToPath(new URL('../../docs/img/dashboard.png', import.meta.url))
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1'

const ORIGIN = 'http://localhost:3996'
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { analyst: newKey(), privacy: newKey(), other: newKey() }
const WRITE = { web: 'pk_dash_web', docs: 'pk_dash_docs', other: 'pk_dash_other' }

const tenants = {
  orgs: [
    {
      id: 'org-d',
      name: 'D',
      api_keys: [
        { id: 'd-analyst', hash: sha256(KEYS.analyst), role: 'analyst' },
        { id: 'd-privacy', hash: sha256(KEYS.privacy), role: 'privacy' },
      ],
      sites: [
        { id: 'web', write_key: WRITE.web, allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
        { id: 'docs', write_key: WRITE.docs, allowed_origins: [ORIGIN], consent_mode: 'opt-in' },
      ],
    },
    {
      id: 'org-x',
      name: 'X',
      api_keys: [{ id: 'x-analyst', hash: sha256(KEYS.other), role: 'analyst' }],
      sites: [{ id: 'xweb', write_key: WRITE.other, allowed_origins: [ORIGIN], consent_mode: 'opt-out' }],
    },
  ],
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const today = Math.floor(Date.now() / DAY) * DAY
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const DAY_A = today - 20 * DAY
const DAY_B = today - 3 * DAY
const DAY_C = today - 2 * DAY
const DOCS_DAY = today - 10 * DAY
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const pv = (visitor: string, path: string, ts: number, referrer?: string): WireEvent =>
  event({ a: `anon_${visitor}`, s: `sess_${visitor}`, u: `https://d.example.com${path}`, ts, ...(referrer ? { r: referrer } : { r: undefined }) })
const feature = (user: number, name: string, ts: number) =>
  event({ t: 'feature', n: name, a: `anon_u${user}`, s: `sess_u${user}`, uid: `user${user}@d.example`, u: 'https://d.example.com/app', ts, r: undefined })

/** What each site receives, with the client address (for the country) and user agent of each group. */
const TRAFFIC: { key: string; ip: string; ua?: string; events: WireEvent[] }[] = [
  // web, day A: 12 visitors on /home from Google (GB, desktop Chrome); 2 of them on /secret, under k, never named.
  {
    key: WRITE.web,
    ip: '81.2.69.142',
    events: [...range(12).map((i) => pv(`a${i}`, '/home', DAY_A + 10 * HOUR, 'https://www.google.com/')), ...range(2).map((i) => pv(`a${i}`, '/secret', DAY_A + 11 * HOUR))],
  },
  // web, day B: 8 visitors on /home from Hacker News, 6 of them on /pricing (US, iPhone).
  {
    key: WRITE.web,
    ip: '8.8.8.8',
    ua: IPHONE_UA,
    events: [...range(8).map((i) => pv(`b${i}`, '/home', DAY_B + 9 * HOUR, 'https://news.ycombinator.com/')), ...range(6).map((i) => pv(`b${i}`, '/pricing', DAY_B + 10 * HOUR))],
  },
  // web, day B: 6 signed-in accounts use export-csv (one twice), 2 use beta (under k); from Germany.
  {
    key: WRITE.web,
    ip: '85.214.132.117',
    events: [...range(6).map((i) => feature(i, 'export-csv', DAY_B + 12 * HOUR)), feature(0, 'export-csv', DAY_B + 15 * HOUR), ...range(2).map((i) => feature(i, 'beta', DAY_B + 13 * HOUR))],
  },
  // web, day C: 2 visitors, under k: the day is hidden.
  { key: WRITE.web, ip: '8.8.8.8', events: range(2).map((i) => pv(`c${i}`, '/home', DAY_C + 9 * HOUR)) },
  // docs: 9 visitors read /start and /start/install on one day, 5 read /guide on day B.
  {
    key: WRITE.docs,
    ip: '81.2.69.142',
    events: [...range(9).map((i) => pv(`d${i}`, '/start', DOCS_DAY + 9 * HOUR)), ...range(9).map((i) => pv(`d${i}`, '/start/install', DOCS_DAY + 9 * HOUR + 60_000)), ...range(5).map((i) => pv(`e${i}`, '/guide', DAY_B + 14 * HOUR))],
  },
  // Another org: never shown to org-d's key.
  { key: WRITE.other, ip: '8.8.8.8', events: range(10).map((i) => pv(`x${i}`, '/x-only', DAY_B + 9 * HOUR)) },
]

let pipeline: RunningPipeline
let browser: Browser
let laptop: BrowserContext
let page: Page
const consoleErrors: string[] = []
const requests: { url: string; authorization: string | undefined }[] = []
/** The stats requests the page made for its cards (realtime's 10 s polls aside). */
const statsUrls = () =>
  requests
    .filter((r) => r.url.includes('/v1/stats/'))
    .map((r) => new URL(r.url))
    .filter((u) => !u.pathname.includes('/realtime'))

async function send(key: string, ip: string, ua: string | undefined, events: WireEvent[]): Promise<void> {
  const res = await post(pipeline.ingest, batch(events, { k: key }), { origin: ORIGIN, headers: { 'x-forwarded-for': ip, ...(ua ? { 'user-agent': ua } : {}) } })
  expect(res.status, await res.clone().text()).toBe(202)
}

async function receipt(key: string, analytics: boolean, src: string): Promise<void> {
  const res = await fetch(`${pipeline.ingest}/v1/consent`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: ORIGIN },
    body: JSON.stringify({ v: 1, k: key, id: randomUUID(), ts: Date.now() - 500, sa: Date.now(), a: analytics, p: false, src, r: '1' }),
  })
  expect(res.status).toBe(202)
}

/** The stats API's own answer to a URL the page requested, with the same key. */
async function api<T>(schema: { parse(v: unknown): T }, url: URL, key = KEYS.analyst): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } })
  expect(res.status, await res.clone().text()).toBe(200)
  return schema.parse(await res.json())
}

/** The page's latest request to an endpoint, optionally with a parameter value. */
function lastRequest(endpoint: string, where: Record<string, string> = {}): URL {
  const found = statsUrls()
    .filter((u) => u.pathname === `/v1/stats/${endpoint}` && Object.entries(where).every(([k, v]) => u.searchParams.get(k) === v))
    .at(-1)
  if (!found) throw new Error(`the page never requested ${endpoint} ${JSON.stringify(where)}`)
  return found
}

const fmt = (n: number | null) => (n === null ? `< ${K}` : n.toLocaleString('en-GB'))
const sum = (xs: (number | null)[]) => xs.reduce<number>((n, x) => n + (x ?? 0), 0)

/** Runs an action that reloads cards and returns the stats requests it made, once every card is current. */
async function settle(p: Page, action: () => Promise<unknown>): Promise<URL[]> {
  const before = statsUrls().length
  await action()
  await expect.poll(() => statsUrls().length).toBeGreaterThan(before)
  await p.waitForSelector('body[data-state="ready"]')
  return statsUrls().slice(before)
}

const tile = (p: Page, card: string, label: string) => p.textContent(`#card-${card} [data-tile="${label}"] .tile-value`)
/** A headline card's value (from /aggregate). */
const metric = (p: Page, name: string) => p.textContent(`#metrics [data-metric="${name}"] .metric-value`)
/** Shows a panel's tab and waits for its rows. */
async function showTab(p: Page, panel: string, tab: string): Promise<void> {
  await p.click(`#card-${panel} [data-tab="${tab}"]`)
  await p.waitForSelector(`#card-${panel}[data-tab="${tab}"]:not([aria-busy])`)
}

async function breakdownRows(p: Page, card: string) {
  return p.$$eval(`#card-${card} table.breakdown tr[data-value]`, (rows) =>
    rows.map((r) => ({ value: (r as HTMLElement).dataset.value, cells: Array.from(r.querySelectorAll('td'), (td) => td.textContent) })),
  )
}

/** Pixels of a series colour the chart drew on its canvas: proof it drew the data, not just axes. */
async function seriesPixels(p: Page, chart: string, rgb: [number, number, number]): Promise<number> {
  return p.$eval(
    `#${chart} canvas`,
    (canvas, [r, g, b]) => {
      const c = canvas as HTMLCanvasElement
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 0; i < data.length; i += 4) {
        if (Math.abs(data[i]! - r) < 40 && Math.abs(data[i + 1]! - g) < 40 && Math.abs(data[i + 2]! - b) < 40 && data[i + 3]! > 200) n++
      }
      return n
    },
    rgb,
  )
}

async function signIn(p: Page, base: string, key: string): Promise<void> {
  await p.goto(`${base}/dashboard`)
  await p.waitForSelector('#signin:not([hidden])')
  await p.fill('#api-key', key)
  await settle(p, () => p.click('#signin-submit'))
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-dashboard-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(tenants))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: file, STATS_K_ANONYMITY: String(K) })
  for (const group of TRAFFIC) await send(group.key, group.ip, group.ua, group.events)
  for (let i = 0; i < 7; i++) await receipt(WRITE.web, true, 'banner')
  for (let i = 0; i < 6; i++) await receipt(WRITE.web, false, 'gpc')
  for (let i = 0; i < 2; i++) await receipt(WRITE.web, false, 'banner')

  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  laptop = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  page = await laptop.newPage()
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()))
  page.on('pageerror', (e) => consoleErrors.push(e.message))
  page.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }))
  // A CSP violation is reported to the page whether or not the console shows it.
  await page.addInitScript(() => {
    const seen: string[] = []
    Object.assign(window, { __cspViolations: seen })
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`))
  })
})

afterAll(async () => {
  await browser?.close()
  await pipeline?.stop()
})

describe('dashboard sign-in', () => {
  it('serves the page under the strict CSP, and / leads to it', async () => {
    const res = await fetch(`${pipeline.backoffice}/`, { redirect: 'manual' })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('/dashboard')
    const html = await fetch(`${pipeline.backoffice}/dashboard`)
    expect(html.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    )
    const body = await html.text()
    // Nothing inline: every script and style comes from the back office itself.
    expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=/i)
  })

  it('shows the API’s error for a wrong key and for a key without the analyst role, and keeps neither', async () => {
    await page.goto(`${pipeline.backoffice}/dashboard`)
    await page.waitForSelector('#signin:not([hidden])')
    expect(await page.getAttribute('body', 'data-state')).toBe('signed-out')

    await page.fill('#api-key', `sk_${'x'.repeat(43)}`)
    const refused = page.waitForResponse((r) => r.url().endsWith('/v1/stats/sites'))
    await page.click('#signin-submit')
    expect((await refused).status()).toBe(401)
    await expect.poll(() => page.textContent('#signin-error')).toBe('unknown API key')
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-signin-error.png') })

    await page.fill('#api-key', KEYS.privacy)
    const forbidden = page.waitForResponse((r) => r.url().endsWith('/v1/stats/sites'))
    await page.click('#signin-submit')
    expect((await forbidden).status()).toBe(403)
    await expect.poll(() => page.textContent('#signin-error')).toMatch(/^role privacy may not use the stats API/)

    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie])).toEqual([0, 0, ''])
    expect(await page.isHidden('#dashboard')).toBe(true)
  })

  it('signs in with an analyst key kept in sessionStorage only and sent only as a bearer header', async () => {
    await page.fill('#api-key', KEYS.analyst)
    await settle(page, () => page.click('#signin-submit'))
    expect(await page.isVisible('#dashboard')).toBe(true)
    expect(await page.textContent('#org')).toBe('org org-d')
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([KEYS.analyst])
    expect(await page.evaluate(() => [localStorage.length, document.cookie])).toEqual([0, ''])
    expect(page.url()).not.toContain(KEYS.analyst)
    expect(new URL(page.url()).search).toBe('?site=web&days=30&feature=export-csv')
    for (const r of requests) expect(r.url).not.toContain(KEYS.analyst)
    const authorized = requests.filter((r) => r.url.includes('/v1/stats/') && r.authorization === `Bearer ${KEYS.analyst}`)
    expect(authorized.length).toBeGreaterThanOrEqual(9)
    // Only this org's sites, with the first chosen.
    expect(await page.$$eval('#site option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['web', 'docs'])
    expect(await page.inputValue('#site')).toBe('web')
  })
})

describe('dashboard for site web over the last 30 days', () => {
  it('asked every endpoint for the site and the 30 days ending today', () => {
    const expected = { site: 'web', from: iso(today - 29 * DAY), to: iso(today + DAY) }
    expect(Object.fromEntries(lastRequest('timeseries').searchParams)).toEqual({ ...expected, interval: 'day' })
    expect(Object.fromEntries(lastRequest('aggregate').searchParams)).toEqual({ ...expected, compare: 'previous_period' })
    // Each panel's first tab; the others are asked when shown.
    for (const [dimension, type] of [
      ['url_path', 'pageview'],
      ['channel', null],
      ['country', null],
      ['browser', null],
      ['name', 'custom'],
      ['goal', null],
      ['name', 'feature'],
    ] as const) {
      const url = lastRequest('breakdown', { dimension, ...(type ? { type } : {}) })
      expect(url.searchParams.get('type')).toBe(type)
      expect(url.searchParams.get('site')).toBe('web')
    }
    expect(Object.fromEntries(lastRequest('consent').searchParams)).toEqual(expected)
    expect(Object.fromEntries(lastRequest('adoption').searchParams)).toEqual({ ...expected, feature: 'export-csv', interval: 'day' })
  })

  it('tiles and the table equal the timeseries the API returns; a day under k reads "< 5", never 0', async () => {
    const body = await api(TimeseriesResponse, lastRequest('timeseries'))
    const shown = body.buckets.filter((b) => !b.hidden)
    expect(await tile(page, 'traffic', 'Most visitors in a day')).toBe(fmt(Math.max(...shown.map((b) => b.visitors ?? 0))))
    expect(await tile(page, 'traffic', 'Hidden days')).toBe('1')
    // The headline cards count the whole range (day C's 2 pageviews too): 14 on day A, 14 on day B, 2 on day C.
    expect(await metric(page, 'pageviews')).toBe('30')
    for (const b of body.buckets) {
      const cells = await page.$$eval(`#traffic-table tr[data-key="${b.t}"] td`, (tds) => tds.map((td) => td.textContent))
      expect(cells, b.t).toEqual([fmt(b.visitors), fmt(b.pageviews), fmt(b.sessions)])
    }
    expect(body.buckets.find((b) => b.t === iso(DAY_C))).toMatchObject({ hidden: true, visitors: null })
    expect(await page.$$eval(`#traffic-table tr[data-key="${iso(DAY_C)}"] td`, (tds) => tds.map((td) => td.textContent))).toEqual(['< 5', '< 5', '< 5'])
    // Days without any event are true zeros: 30 rows in all.
    expect(await page.$$eval('#traffic-table tbody tr', (rows) => rows.length)).toBe(30)
    expect(await page.$$eval(`#traffic-table tr[data-key="${iso(DAY_A + DAY)}"] td`, (tds) => tds.map((td) => td.textContent))).toEqual(['0', '0', '0'])
  })

  it('draws both series on the canvas, and the legend shows the hovered day as the API has it', async () => {
    expect(await seriesPixels(page, 'traffic-chart', [47, 111, 222])).toBeGreaterThan(100)
    expect(await seriesPixels(page, 'traffic-chart', [217, 72, 15])).toBeGreaterThan(100)
    const body = await api(TimeseriesResponse, lastRequest('timeseries'))
    const over = (await page.$('#traffic-chart .u-over'))!
    const box = (await over.boundingBox())!
    for (const [day, index] of [
      [DAY_B, 26],
      [DAY_C, 27],
    ] as const) {
      await page.mouse.move(box.x + (box.width * index) / 29, box.y + box.height / 2)
      await expect.poll(() => page.getAttribute('#traffic-legend', 'data-t')).toBe(new Date(day).toISOString())
      const bucket = body.buckets.find((b) => b.t === iso(day))!
      const legend = await page.$$eval('#traffic-legend li[data-series] .value', (vs) => vs.map((v) => v.textContent))
      expect(legend).toEqual([fmt(bucket.visitors), fmt(bucket.pageviews)])
    }
    expect(await page.$$eval('#traffic-legend li[data-series] .value', (vs) => vs.map((v) => v.textContent))).toEqual(['< 5', '< 5'])
  })

  it('each breakdown lists exactly the API’s rows and "other"; values under k are never named', async () => {
    await showTab(page, 'sources', 'referrers')
    for (const [card, dimension, tab] of [
      ['pages', 'url_path', undefined],
      ['sources', 'referrer_host', undefined],
      ['countries', 'country', undefined],
      ['devices', 'browser', undefined],
      ['devices', 'device_type', 'devices'],
    ] as const) {
      if (tab) await showTab(page, card, tab)
      const body = await api(BreakdownResponse, lastRequest('breakdown', { dimension }))
      const expected = body.rows.map((r) => ({ value: r.value, cells: [fmt(r.visitors), fmt(r.events)] }))
      if (body.other) expected.push({ value: '(other)', cells: [fmt(body.other.visitors), fmt(body.other.events)] })
      expect(await breakdownRows(page, card), card).toEqual(expected)
      expect(body.rows.length, card).toBeGreaterThan(0)
    }
    // Anchors from what was sent.
    expect((await breakdownRows(page, 'pages')).slice(0, 2)).toEqual([
      { value: '/home', cells: ['22', '22'] },
      { value: '/pricing', cells: ['6', '6'] },
    ])
    expect(await page.textContent('#card-countries tr[data-value="GB"] .label-text')).toBe('GB · United Kingdom')
    expect(await page.textContent('#card-sources tr[data-value=""] .label-text')).toBe('(direct or none)')
    expect(await page.$$eval('#card-devices tr[data-value]', (rows) => rows.map((r) => (r as HTMLElement).dataset.value))).toEqual(['desktop', 'mobile'])
    const text = (await page.textContent('#dashboard')) ?? ''
    for (const never of ['/secret', '/x-only', 'org-x', 'xweb', 'beta']) expect(text, never).not.toContain(never)
  })

  it('consent shows the API’s rate and counts, with small counts hidden', async () => {
    const body = await api(ConsentResponse, lastRequest('consent'))
    expect(body).toMatchObject({ grants: 7, refusals: 8 })
    expect(await tile(page, 'consent', 'Grant rate')).toBe(`${(Math.round(body.grant_rate! * 1000) / 10).toLocaleString('en-GB')}%`)
    expect(await tile(page, 'consent', 'Grants')).toBe('7')
    expect(await tile(page, 'consent', 'Refusals')).toBe('8')
    for (const s of body.sources) {
      const cells = await page.$$eval(`#card-consent tr[data-value="${s.source}"] td`, (tds) => tds.map((td) => td.textContent))
      expect(cells, s.source).toEqual([fmt(s.grants), fmt(s.refusals)])
    }
    expect(body.sources.some((s) => s.refusals === null)).toBe(true)
  })

  it('feature adoption lists features seen by k visitors and charts the chosen one from /adoption', async () => {
    expect(await page.$$eval('#feature option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['export-csv'])
    const body = await api(AdoptionResponse, lastRequest('adoption'))
    const day = body.buckets.find((b) => b.t === iso(DAY_B))
    expect(day).toMatchObject({ hidden: false, accounts: 6, events: 7 })
    expect(await tile(page, 'adoption', 'Most accounts in a day')).toBe('6')
    expect(await tile(page, 'adoption', 'Feature events')).toBe(fmt(sum(body.buckets.map((b) => b.events))))
    expect(await page.$$eval(`#adoption-table tr[data-key="${iso(DAY_B)}"] td`, (tds) => tds.map((td) => td.textContent))).toEqual(['6', '6', '7'])
    expect(await seriesPixels(page, 'adoption-chart', [47, 111, 222])).toBeGreaterThan(20)
  })

  it('saves a laptop screenshot of the whole populated page', async () => {
    await page.mouse.move(0, 0)
    const path = join(ARTIFACTS, 'dashboard-laptop.png')
    const shot = await page.screenshot({ path, fullPage: true })
    const height = await page.evaluate(() => document.documentElement.scrollHeight)
    // What was written is the picture taken: the full page at laptop width, every panel in it.
    expect(readFileSync(path).equals(shot)).toBe(true)
    expect(pngSize(shot)).toEqual({ width: 1280, height })
    expect(height).toBeGreaterThan(800)
    // A blank or error page compresses to a few kilobytes; charts, tables and text do not.
    expect(shot.length).toBeGreaterThan(40_000)
  })
})

describe('switching range and site', () => {
  it('7 days asks again for the last 7 days and shows the new numbers', async () => {
    const made = await settle(page, () => page.click('button[data-days="7"]'))
    const timeseries = made.find((u) => u.pathname.endsWith('/timeseries'))!
    expect(Object.fromEntries(timeseries.searchParams)).toEqual({ site: 'web', from: iso(today - 6 * DAY), to: iso(today + DAY), interval: 'day' })
    for (const e of ['aggregate', 'timeseries', 'breakdown', 'consent', 'adoption', 'cohorts']) expect(made.map((u) => u.pathname.split('/').at(-1))).toContain(e)
    expect(made.every((u) => u.searchParams.get('from') === iso(today - 6 * DAY))).toBe(true)
    // Day A (14 pageviews) is outside the range now: 14 on day B and 2 on day C.
    expect(await metric(page, 'pageviews')).toBe('16')
    expect(await page.$$eval('#traffic-table tbody tr', (rows) => rows.length)).toBe(7)
    expect(await breakdownRows(page, 'pages')).toEqual([
      { value: '/home', cells: ['10', '10'] },
      { value: '/pricing', cells: ['6', '6'] },
    ])
    expect(await page.getAttribute('button[data-days="7"]', 'aria-pressed')).toBe('true')
    expect(new URL(page.url()).search).toBe('?site=web&days=7&feature=export-csv')
  })

  it('a custom one-day range asks by the hour; a reversed range asks nothing and says why', async () => {
    const before = statsUrls().length
    await page.fill('#from', iso(DAY_B))
    await page.fill('#to', iso(DAY_A))
    await page.click('#custom-range button[type="submit"]')
    expect(await page.textContent('#range-error')).toBe('The first day must not be after the last.')
    expect(statsUrls().length).toBe(before)

    await page.fill('#from', iso(DAY_A))
    await page.fill('#to', iso(DAY_A))
    const made = await settle(page, () => page.click('#custom-range button[type="submit"]'))
    const timeseries = made.find((u) => u.pathname.endsWith('/timeseries'))!
    expect(Object.fromEntries(timeseries.searchParams)).toEqual({ site: 'web', from: iso(DAY_A), to: iso(DAY_A + DAY), interval: 'hour' })
    const body = await api(TimeseriesResponse, timeseries)
    expect(body.buckets.map((b) => [b.t, b.pageviews])).toEqual([
      [`${iso(DAY_A)}T10:00:00`, 12],
      // Two visitors at 11:00: under k, hidden.
      [`${iso(DAY_A)}T11:00:00`, null],
    ])
    expect(await metric(page, 'pageviews')).toBe('14')
    expect(await tile(page, 'traffic', 'Most visitors in an hour')).toBe('12')
    expect(await tile(page, 'traffic', 'Hidden hours')).toBe('1')
    expect(await page.$$eval('#traffic-table tbody tr', (rows) => rows.length)).toBe(24)
    expect(await page.getAttribute('button[data-days="7"]', 'aria-pressed')).toBe('false')

    // Day C's only events come from 2 visitors: its totals are hidden, not 0.
    await page.fill('#from', iso(DAY_C))
    await page.fill('#to', iso(DAY_C))
    await settle(page, () => page.click('#custom-range button[type="submit"]'))
    const dayC = await api(TimeseriesResponse, lastRequest('timeseries', { from: iso(DAY_C) }))
    expect(dayC.buckets.every((b) => b.hidden)).toBe(true)
    expect(await metric(page, 'pageviews')).toBe('< 5')
    expect(await metric(page, 'visitors')).toBe('< 5')
    expect(await tile(page, 'traffic', 'Hidden hours')).toBe('1')
  })

  it('switching to docs asks for docs and shows its numbers', async () => {
    await settle(page, () => page.click('button[data-days="30"]'))
    const made = await settle(page, () => page.selectOption('#site', 'docs'))
    expect(made.every((u) => u.searchParams.get('site') === 'docs')).toBe(true)
    const timeseries = made.find((u) => u.pathname.endsWith('/timeseries'))!
    const body = await api(TimeseriesResponse, timeseries)
    expect(body.site).toBe('docs')
    expect(await metric(page, 'pageviews')).toBe(fmt(sum(body.buckets.map((b) => b.pageviews))))
    expect(await metric(page, 'pageviews')).toBe('23')
    expect(await tile(page, 'traffic', 'Hidden days')).toBe('0')
    const pages = await api(BreakdownResponse, made.find((u) => u.searchParams.get('dimension') === 'url_path')!)
    expect(await breakdownRows(page, 'pages')).toEqual(pages.rows.map((r) => ({ value: r.value, cells: [fmt(r.visitors), fmt(r.events)] })))
    expect((await breakdownRows(page, 'pages')).map((r) => r.value)).toEqual(['/start', '/start/install', '/guide'])
    expect(await page.textContent('#card-consent .card-body')).toBe('No consent receipts in this range.')
    expect(await page.textContent('#card-adoption .card-body')).toBe('No feature used by at least k visitors in this range.')
    // No feature on docs: nothing to ask /adoption about.
    expect(made.some((u) => u.pathname.endsWith('/adoption'))).toBe(false)
    expect(new URL(page.url()).search).toBe('?site=docs&days=30')
  })

  it('a reload keeps the key for this tab and the view from the URL; signing out forgets both key and numbers', async () => {
    await settle(page, () => page.reload())
    expect(await page.isHidden('#signin')).toBe(true)
    expect(await page.inputValue('#site')).toBe('docs')
    expect(await metric(page, 'pageviews')).toBe('23')
    await page.click('#sign-out')
    expect(await page.isVisible('#signin')).toBe(true)
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    expect(await page.$$eval('#dashboard .card-body, #metrics', (bodies) => bodies.map((b) => b.textContent).join(''))).toBe('')
  })

  it('made no third-party request, logged no console error and violated no CSP directive', async () => {
    const origin = new URL(pipeline.backoffice).origin
    expect(requests.length).toBeGreaterThan(30)
    for (const r of requests) expect(new URL(r.url).origin, r.url).toBe(origin)
    expect(consoleErrors.filter((e) => !/status of 40[13]/.test(e))).toEqual([])
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([])
  })

  it('the browser enforces the CSP: injected inline script does not run', async () => {
    const probe = await laptop.newPage()
    await probe.addInitScript(() => {
      const seen: string[] = []
      Object.assign(window, { __cspViolations: seen })
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective))
    })
    await probe.goto(`${pipeline.backoffice}/dashboard`)
    const ran = await probe.evaluate(async () => {
      const script = document.createElement('script')
      script.textContent = 'window.__inlineRan = true'
      document.head.append(script)
      await new Promise((r) => setTimeout(r, 100))
      return (window as unknown as { __inlineRan?: boolean }).__inlineRan ?? false
    })
    expect(ran).toBe(false)
    expect(await probe.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toContain('script-src-elem')
    await probe.close()
  })
})

describe('dashboard on a phone (390×844)', () => {
  it('fits the width with no horizontal overflow, one card per row', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })
    const p = await phone.newPage()
    const errors: string[] = []
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    p.on('pageerror', (e) => errors.push(e.message))
    p.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }))
    await signIn(p, pipeline.backoffice, KEYS.analyst)
    const widths = await p.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth, body: document.body.scrollWidth }))
    expect(widths.client).toBe(390)
    expect(widths.scroll).toBeLessThanOrEqual(390)
    expect(widths.body).toBeLessThanOrEqual(390)
    const boxes = await p.$$eval('.card:not([hidden]), .controls, canvas', (els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ left: r.left, right: r.right })))
    for (const b of boxes) {
      expect(b.left).toBeGreaterThanOrEqual(0)
      expect(b.right).toBeLessThanOrEqual(390)
    }
    const cards = await p.$$eval('#dashboard .card:not([hidden])', (els) => els.map((e) => Math.round(e.getBoundingClientRect().left)))
    expect(new Set(cards).size).toBe(1)
    expect(await seriesPixels(p, 'traffic-chart', [47, 111, 222])).toBeGreaterThan(100)
    expect(errors).toEqual([])
    await p.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true })
    await phone.close()
  })
})

describe('npm start: the populated demo', () => {
  let demo: RunningPipeline
  let key = ''

  beforeAll(async () => {
    // The demo tenant (no tenants file) with its generated traffic for both demo sites.
    demo = await startPipeline({ DEMO_TRAFFIC: '1' })
    const deadline = Date.now() + 120_000
    while (!demo.output().includes('"msg":"demo traffic seeded"')) {
      if (Date.now() > deadline) throw new Error(`demo traffic not seeded:\n${demo.output()}`)
      await new Promise((r) => setTimeout(r, 250))
    }
    key = demo.output().match(/demo analyst key\s+(sk_[A-Za-z0-9_-]+)/)?.[1] ?? ''
  })

  afterAll(async () => {
    await demo?.stop()
  })

  it('prints the dashboard URL and an analyst key that signs in; both demo sites have a month of data', async () => {
    expect(demo.output()).toContain(`analyst dashboard   ${demo.backoffice}/dashboard`)
    expect(key).toMatch(/^sk_/)
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const p = await context.newPage()
    const errors: string[] = []
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    p.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }))
    await signIn(p, demo.backoffice, key)
    expect(await p.$$eval('#site option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['demo', 'docs'])
    const product = Number((await metric(p, 'pageviews'))?.replaceAll(',', ''))
    expect(product).toBeGreaterThan(5_000)
    expect(await p.$$eval('#feature option', (os) => os.length)).toBeGreaterThanOrEqual(5)
    await p.mouse.move(0, 0)
    await p.screenshot({ path: join(ARTIFACTS, 'dashboard-demo.png'), fullPage: true })

    await settle(p, () => p.selectOption('#site', 'docs'))
    const docs = Number((await metric(p, 'pageviews'))?.replaceAll(',', ''))
    expect(docs).toBeGreaterThan(1_000)
    expect(docs).not.toBe(product)
    expect((await breakdownRows(p, 'pages')).map((r) => r.value)).toContain('/getting-started')
    expect(errors).toEqual([])
    await context.close()
  })

  it('renders fully within 1.5 s on a month of demo data (median of 10 loads), every panel asked at once', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const p = await context.newPage()
    p.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }))
    await signIn(p, demo.backoffice, key)
    const times: number[] = []
    for (let i = 0; i < 10; i++) {
      const start = Date.now()
      await p.reload()
      await p.waitForSelector('body[data-state="ready"]')
      times.push(Date.now() - start)
    }
    times.sort((a, b) => a - b)
    const median = (times[4]! + times[5]!) / 2
    console.log(`dashboard first full render on the demo data: median ${median} ms, ${times.join(' ')} ms`)
    expect(median).toBeLessThanOrEqual(1500)
    await context.close()
  })

  it('takes the README screenshot at 1280 px: headline cards, a filter chip, chart, realtime and the panels', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    const p = await context.newPage()
    p.on('request', (r) => requests.push({ url: r.url(), authorization: r.headers().authorization }))
    await signIn(p, demo.backoffice, key)
    // The last 7 days (the demo has a month, so the 7 before them compare), filtered by the first channel to show a chip.
    await settle(p, () => p.click('button[data-days="7"]'))
    const channel = await p.getAttribute('#card-sources tr[data-value] ', 'data-value')
    await settle(p, () => p.click(`#card-sources tr[data-value="${channel}"] button.row-filter`))
    expect(await p.$$eval('#filter-chips .chip', (cs) => cs.length)).toBe(1)
    await p.mouse.move(0, 0)
    const height = await p.evaluate(() => Math.ceil(document.querySelector('#card-goals')!.getBoundingClientRect().bottom + window.scrollY + 16))
    const path = join(ARTIFACTS, 'dashboard-readme.png')
    const shot = await p.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width: 1280, height } })
    expect(pngSize(shot)).toEqual({ width: 1280, height })
    expect(shot.length).toBeGreaterThan(60_000)
    if (UPDATE_SCREENSHOTS) {
      mkdirSync(join(README_SCREENSHOT, '..'), { recursive: true })
      copyFileSync(path, README_SCREENSHOT)
    }
    await context.close()
  })
})
