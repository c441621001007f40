import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { WireEvent } from '@atspark/schemas'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, HEADLESS_UA, IPHONE_UA, post } from './support/batches.js'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'

// Issue 15's dashboard in real Chromium against the built back office of a running embedded pipeline
// (real ingest, processor and chDB; no mocked API): headline cards with the change against the
// previous period, click-to-filter with chips in the URL, CSV and zip downloads, realtime, the
// install view of an empty site, a stale key, shared links, and the 390 px layout. Every number the
// page shows is compared with the stats API's own answer to the request the page made.

const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))
const ORIGIN = 'http://localhost:3997'
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { analyst: newKey(), admin: newKey() }
const WRITE = { web: 'pk_dash15_web', fresh: 'pk_dash15_fresh' }

const tenants = {
  orgs: [
    {
      id: 'org-15',
      name: 'Fifteen',
      api_keys: [
        { id: 'f-analyst', hash: sha256(KEYS.analyst), role: 'analyst' },
        { id: 'f-admin', hash: sha256(KEYS.admin), role: 'admin' },
      ],
      sites: [
        {
          id: 'web',
          write_key: WRITE.web,
          allowed_origins: [ORIGIN],
          consent_mode: 'opt-out',
          goals: [
            { name: 'Signup', event: 'signup' },
            { name: 'Pricing', page: '/pricing' },
          ],
        },
        { id: 'fresh', write_key: WRITE.fresh, allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
      ],
    },
  ],
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const today = Math.floor(Date.now() / DAY) * DAY
/** Inside the last 7 days, and inside the 7 days before them. */
const CURRENT = today - 2 * DAY
const PREVIOUS = today - 10 * DAY
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const UTM = '?utm_source=hn&utm_medium=social&utm_campaign=launch'

const pv = (visitor: string, path: string, ts: number, referrer?: string): WireEvent =>
  event({ a: `anon_${visitor}`, s: `sess_${visitor}`, u: `https://w.example.com${path}`, ts, ...(referrer ? { r: referrer } : { r: undefined }) })
const custom = (visitor: string, name: string, ts: number): WireEvent =>
  event({ t: 'custom', n: name, a: `anon_${visitor}`, s: `sess_${visitor}`, u: 'https://w.example.com/home', ts, r: undefined })

const TRAFFIC: { key: string; ip: string; ua?: string; events: WireEvent[] }[] = [
  // 10 visitors from the UK via Google on /home, 6 of them then on /pricing.
  {
    key: WRITE.web,
    ip: '81.2.69.142',
    events: [...range(10).map((i) => pv(`g${i}`, '/home', CURRENT + 10 * HOUR, 'https://www.google.com/')), ...range(6).map((i) => pv(`g${i}`, '/pricing', CURRENT + 10 * HOUR + 5 * MINUTE))],
  },
  // 6 visitors from the US on iPhones via a campaign link on Hacker News; 5 of them sign up.
  {
    key: WRITE.web,
    ip: '8.8.8.8',
    ua: IPHONE_UA,
    events: [...range(6).map((i) => pv(`h${i}`, `/home${UTM}`, CURRENT + 12 * HOUR, 'https://news.ycombinator.com/')), ...range(5).map((i) => custom(`h${i}`, 'signup', CURRENT + 12 * HOUR + 3 * MINUTE))],
  },
  // 2 visitors from Germany on /secret: under k, never named.
  { key: WRITE.web, ip: '85.214.132.117', events: range(2).map((i) => pv(`s${i}`, '/secret', CURRENT + 14 * HOUR)) },
  // The previous 7 days: 8 visitors from the UK on /home.
  { key: WRITE.web, ip: '81.2.69.142', events: range(8).map((i) => pv(`p${i}`, '/home', PREVIOUS + 9 * HOUR)) },
]

let pipeline: RunningPipeline
let browser: Browser
let laptop: BrowserContext
let page: Page
const consoleErrors: string[] = []
const requests: string[] = []
/** Stats requests the page made, whichever way it reads (key or shared link); realtime polls aside. */
const statsUrls = () =>
  requests
    .map((r) => new URL(r))
    .filter((u) => /\/v1\/(stats|shared\/[^/]+\/stats)\//.test(u.pathname) && !u.pathname.includes('/realtime'))
const endpoint = (u: URL) => u.pathname.replace(/^.*\/stats\//, '')

async function send(key: string, ip: string, ua: string | undefined, events: WireEvent[]): Promise<void> {
  const res = await post(pipeline.ingest, batch(events, { k: key }), { origin: ORIGIN, headers: { 'x-forwarded-for': ip, ...(ua ? { 'user-agent': ua } : {}) } })
  expect(res.status, await res.clone().text()).toBe(202)
}

/** The API's own answer to a URL the page requested (a shared link's URL needs no key). */
async function api<T = Record<string, unknown>>(url: URL | string, key: string | null = KEYS.analyst): Promise<T> {
  const res = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} })
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as T
}

function lastRequest(name: string, where: Record<string, string> = {}): URL {
  const found = statsUrls()
    .filter((u) => endpoint(u) === name && Object.entries(where).every(([k, v]) => u.searchParams.get(k) === v))
    .at(-1)
  if (!found) throw new Error(`the page never requested ${name} ${JSON.stringify(where)}`)
  return found
}

/** Runs an action that reloads the page's cards; returns the stats requests it made once every card is current. */
async function settle(p: Page, action: () => Promise<unknown>): Promise<URL[]> {
  const before = statsUrls().length
  await action()
  for (const deadline = Date.now() + 15_000; statsUrls().length <= before; await p.waitForTimeout(50)) {
    if (Date.now() > deadline) throw new Error('the action asked the stats API nothing')
  }
  await p.waitForSelector('body[data-state="ready"]')
  return statsUrls().slice(before)
}

const integer = (n: number) => n.toLocaleString('en-GB')
const percent = (r: number) => new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1 }).format(r)
const metricValue = (p: Page, metric: string) => p.textContent(`#metrics [data-metric="${metric}"] .metric-value`)
const chips = (p: Page) => p.$$eval('#filter-chips .chip', (cs) => cs.map((c) => [(c as HTMLElement).dataset.filter, c.querySelector('.chip-text')?.textContent]))
const filtersInUrl = (p: Page) => new URL(p.url()).searchParams.get('filters')

async function breakdownRows(p: Page, panel: string) {
  return p.$$eval(`#card-${panel} table.breakdown tr[data-value]`, (rows) =>
    rows.map((r) => ({ value: (r as HTMLElement).dataset.value, cells: Array.from(r.querySelectorAll('td'), (td) => td.textContent) })),
  )
}

type Row = { value: string; visitors: number; events: number; visits?: number }
type Breakdown = { rows: Row[]; other: { visitors: number; events: number; visits?: number } | null }
const expectedRows = (body: Breakdown) => {
  const visits = body.rows.some((r) => r.visits !== undefined)
  const cells = (r: { visitors: number; events: number; visits?: number }) => [integer(r.visitors), integer(visits ? (r.visits ?? r.events) : r.events)]
  const rows = body.rows.map((r) => ({ value: r.value, cells: cells(r) }))
  if (body.other) rows.push({ value: '(other)', cells: cells(body.other) })
  return rows
}

/** Every metric card as the API answered the page's /aggregate request: value and change. */
async function expectCardsEqualApi(p: Page, url: URL, key: string | null = KEYS.analyst): Promise<Record<string, { value: number | null; previous?: number | null; change?: number | null }>> {
  const body = await api<{ k: number; metrics: Record<string, { value: number | null; previous?: number | null; change?: number | null }> }>(url, key)
  for (const metric of ['visitors', 'visits', 'pageviews', 'bounce_rate', 'visit_duration_median', 'views_per_visit']) {
    const m = body.metrics[metric]!
    const shown = await metricValue(p, metric)
    if (m.value === null) expect(shown, metric).toBe(`< ${body.k}`)
    else if (metric === 'visitors' || metric === 'visits' || metric === 'pageviews') expect(shown, metric).toBe(integer(m.value))
    else if (metric === 'bounce_rate') expect(shown, metric).toBe(percent(m.value))
    const change = await p.getAttribute(`#metrics [data-metric="${metric}"] .change`, 'data-change')
    expect(change, metric).toBe(m.change === null || m.change === undefined ? '' : String(m.change))
  }
  return body.metrics
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-dashboard15-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(tenants))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: file, STATS_K_ANONYMITY: String(K) })
  for (const group of TRAFFIC) await send(group.key, group.ip, group.ua, group.events)
  // The processor writes in the background: wait until the previous period's 8 visitors are counted.
  const previous = `${pipeline.backoffice}/v1/stats/aggregate?site=web&from=${new Date(PREVIOUS - DAY).toISOString().slice(0, 10)}&to=${new Date(PREVIOUS + DAY).toISOString().slice(0, 10)}`
  for (let deadline = Date.now() + 60_000; ; ) {
    const body = await api<{ metrics: { visitors: { value: number | null } } }>(previous)
    if (body.metrics.visitors.value === 8) break
    if (Date.now() > deadline) throw new Error(`the previous period never reached 8 visitors: ${JSON.stringify(body)}`)
    await new Promise((r) => setTimeout(r, 250))
  }

  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  laptop = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true })
  page = await laptop.newPage()
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()))
  page.on('pageerror', (e) => consoleErrors.push(e.message))
  page.on('request', (r) => requests.push(r.url()))
  await laptop.addInitScript(() => {
    const seen: string[] = []
    Object.assign(window, { __cspViolations: seen })
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`))
  })
  await page.goto(`${pipeline.backoffice}/dashboard?site=web&days=7`)
  await page.waitForSelector('#signin:not([hidden])')
  await page.fill('#api-key', KEYS.analyst)
  await settle(page, () => page.click('#signin-submit'))
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await pipeline?.stop()
})

describe('headline cards', () => {
  it('show /aggregate’s values and changes against the previous 7 days, as the API computed them', async () => {
    const url = lastRequest('aggregate')
    expect(url.searchParams.get('compare')).toBe('previous_period')
    expect(url.searchParams.get('site')).toBe('web')
    const metrics = await expectCardsEqualApi(page, url)
    // What was sent: 18 visitors now (10 + 6 + 2), 8 in the 7 days before.
    expect(metrics.visitors).toMatchObject({ value: 18, previous: 8, change: 1.25 })
    expect(await metricValue(page, 'visitors')).toBe('18')
    expect(await page.textContent('#metrics [data-metric="visitors"] .change')).toBe('▲ 125% vs previous 7 days')
    expect(await page.getAttribute('#metrics [data-metric="visitors"] .change', 'class')).toContain('good')
    expect(await page.getAttribute('#metrics [data-metric="visitors"] .change-value', 'aria-label')).toBe('up 125% vs previous 7 days')
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard15-cards.png') })
  })

  it('the chart’s busiest-period tile reads “in a day” / “in an hour”, and hours that have not begun are not drawn', async () => {
    expect(await page.textContent('#card-traffic [data-tile^="Most visitors in"] .tile-label')).toBe('Most visitors in a day')
    const day = new Date(today).toISOString().slice(0, 10)
    await page.fill('#from', day)
    await page.fill('#to', day)
    await settle(page, () => page.click('#custom-range button[type="submit"]'))
    expect(lastRequest('timeseries').searchParams.get('interval')).toBe('hour')
    expect(await page.textContent('#card-traffic [data-tile^="Most visitors in"] .tile-label')).toBe('Most visitors in an hour')
    // Today by the hour: only the hours up to the current one, never the rest of the day as zeros.
    const hoursBegun = new Date().getUTCHours() + 1
    expect(await page.$$eval('#traffic-table tbody tr', (rows) => rows.length)).toBe(hoursBegun)
    await settle(page, () => page.click('button[data-days="7"]'))
  })
})

describe('click to filter', () => {
  it('a row click adds a chip, puts the filter in the URL and re-asks every panel with it', async () => {
    // From a known view, whatever the test before left.
    await settle(page, () => page.goto(`${pipeline.backoffice}/dashboard?site=web&days=7`))
    expect(await chips(page)).toEqual([])
    const made = await settle(page, () => page.click('#card-countries tr[data-value="GB"] button.row-filter'))
    expect(await chips(page)).toEqual([['country==GB', 'Country is GB · United Kingdom']])
    expect(filtersInUrl(page)).toBe('country==GB')
    const asked = made.filter((u) => endpoint(u) !== 'consent')
    for (const u of asked) expect(u.searchParams.get('filters'), u.href).toBe('country==GB')
    // Every panel asked again: one breakdown per panel's current tab, and the chart.
    const dimensions = new Set(asked.filter((u) => endpoint(u) === 'breakdown').map((u) => u.searchParams.get('dimension')))
    for (const d of ['url_path', 'channel', 'country', 'browser', 'goal']) expect(dimensions, d).toContain(d)
    expect(asked.some((u) => endpoint(u) === 'timeseries')).toBe(true)
    // Consent receipts have no country: that card is asked without filters and says so.
    expect(made.find((u) => endpoint(u) === 'consent')?.searchParams.has('filters')).toBe(false)

    const metrics = await expectCardsEqualApi(page, lastRequest('aggregate', { filters: 'country==GB' }))
    expect(metrics.visitors).toMatchObject({ value: 10, previous: 8 })
    for (const [panel, dimension] of [
      ['pages', 'url_path'],
      ['countries', 'country'],
      ['sources', 'channel'],
    ] as const) {
      const body = await api<Breakdown>(lastRequest('breakdown', { dimension, filters: 'country==GB' }))
      expect(await breakdownRows(page, panel), panel).toEqual(expectedRows(body))
    }
    expect(await page.getAttribute('#card-countries tr[data-value="GB"] button.row-filter', 'aria-pressed')).toBe('true')
  })

  it('filters stack; back and forward step through them; a chip’s × and “Clear all” remove them', async () => {
    await settle(page, () => page.click('#card-pages tr[data-value="/pricing"] button.row-filter'))
    expect(filtersInUrl(page)).toBe('country==GB;url_path==/pricing')
    expect(await chips(page)).toEqual([
      ['country==GB', 'Country is GB · United Kingdom'],
      ['url_path==/pricing', 'Page is /pricing'],
    ])
    await expectCardsEqualApi(page, lastRequest('aggregate', { filters: 'country==GB;url_path==/pricing' }))
    expect(await metricValue(page, 'visitors')).toBe('6')

    await settle(page, () => page.goBack())
    expect(filtersInUrl(page)).toBe('country==GB')
    expect(await metricValue(page, 'visitors')).toBe('10')
    await settle(page, () => page.goForward())
    expect(await chips(page)).toHaveLength(2)
    expect(await metricValue(page, 'visitors')).toBe('6')
    // A reload shows the same view from the URL.
    await settle(page, () => page.reload())
    expect(await chips(page)).toHaveLength(2)

    await settle(page, () => page.click('#filter-chips .chip[data-filter="country==GB"] .chip-remove'))
    expect(filtersInUrl(page)).toBe('url_path==/pricing')
    expect(await metricValue(page, 'visitors')).toBe('6')
    await settle(page, () => page.click('#clear-filters'))
    expect(filtersInUrl(page)).toBeNull()
    expect(await page.isHidden('#filters')).toBe(true)
    expect(await metricValue(page, 'visitors')).toBe('18')
  })

  it('rows are buttons: the keyboard filters too, on any tab (UTM campaign here)', async () => {
    await settle(page, () => page.goto(`${pipeline.backoffice}/dashboard?site=web&days=7`))
    // Tabs follow the ARIA pattern: one tab stop, arrow keys move (and show) the next tab.
    expect(await page.$$eval('#card-sources [role="tab"]', (ts) => ts.map((t) => t.getAttribute('tabindex')))).toEqual(['0', '-1', '-1', '-1', '-1'])
    await page.focus('#card-sources [data-tab="channels"]')
    await settle(page, () => page.keyboard.press('ArrowRight'))
    expect(await page.getAttribute('#card-sources', 'data-tab')).toBe('referrers')
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.tab)).toBe('referrers')
    await settle(page, () => page.click('#card-sources [data-tab="utm-campaign"]'))
    const campaigns = await api<Breakdown>(lastRequest('breakdown', { dimension: 'utm_campaign' }))
    expect(campaigns.rows.map((r) => r.value)).toContain('launch')
    expect(await breakdownRows(page, 'sources')).toEqual(expectedRows(campaigns))
    await page.focus('#card-sources tr[data-value="launch"] button.row-filter')
    await settle(page, () => page.keyboard.press('Enter'))
    expect(filtersInUrl(page)).toBe('utm_campaign==launch')
    expect(await chips(page)).toEqual([['utm_campaign==launch', 'UTM campaign is launch']])
    await expectCardsEqualApi(page, lastRequest('aggregate', { filters: 'utm_campaign==launch' }))
    expect(await metricValue(page, 'visitors')).toBe('6')
    // Goals under the filter: 5 of the 6 signed up.
    const goals = await api<Breakdown>(lastRequest('breakdown', { dimension: 'goal', filters: 'utm_campaign==launch' }))
    expect(goals.rows.find((r) => r.value === 'Signup')).toMatchObject({ visitors: 5 })
    expect(await page.$$eval('#card-goals tr[data-value="Signup"] td', (tds) => tds.map((td) => td.textContent))).toEqual(['5', '5', percent(5 / 6)])
    // A goal row filters too; the cards then answer how many of these visitors converted.
    await settle(page, () => page.click('#card-goals tr[data-value="Signup"] button.row-filter'))
    expect(filtersInUrl(page)).toBe('utm_campaign==launch;goal==Signup')
    const withGoal = lastRequest('aggregate', { goal: 'Signup' })
    expect(withGoal.searchParams.get('filters')).toBe('utm_campaign==launch')
    const converted = await api<{ metrics: Record<string, { value: number | null }> }>(withGoal)
    expect(converted.metrics.conversions?.value).toBe(5)
    expect(await metricValue(page, 'conversions')).toBe('5')
    expect(await metricValue(page, 'conversion_rate')).toBe(percent(converted.metrics.conversion_rate!.value!))
    expect(await metricValue(page, 'visitors')).toBe('6')
    // The panels keep the goal as a filter: only the visitors who converted.
    expect(lastRequest('breakdown', { dimension: 'url_path' }).searchParams.get('filters')).toBe('utm_campaign==launch;goal==Signup')
    await settle(page, () => page.click('#clear-filters'))
  })

  it('a filter that leaves fewer than k visitors shows “< 5”, never 0, and no install hint', async () => {
    await settle(page, () => page.goto(`${pipeline.backoffice}/dashboard?site=web&days=7&filters=${encodeURIComponent('url_path==/secret')}`))
    const body = await api<{ hidden: boolean }>(lastRequest('aggregate', { filters: 'url_path==/secret' }))
    expect(body.hidden).toBe(true)
    expect(await metricValue(page, 'visitors')).toBe('< 5')
    expect(await page.getAttribute('#metrics [data-metric="visitors"] .metric-value', 'title')).toMatch(/fewer than k = 5 visitors/)
    expect(await page.isHidden('#install')).toBe(true)
    expect(await page.textContent('#metrics')).not.toMatch(/\b0\b/)
    await settle(page, () => page.click('#clear-filters'))
  })
})

describe('funnel', () => {
  it('the builder asks /funnel for the steps given and shows its answer', async () => {
    await settle(page, () => page.goto(`${pipeline.backoffice}/dashboard?site=web&days=7`))
    await page.fill('#funnel-step-0', 'pageview:/home')
    await page.fill('#funnel-step-1', 'pageview:/pricing')
    await settle(page, () => page.click('#funnel-run'))
    const url = lastRequest('funnel')
    expect(url.searchParams.get('steps')).toBe('pageview:/home,pageview:/pricing')
    const body = await api<{ steps: { step: string; visitors: number | null }[] }>(url)
    expect(body.steps.map((s) => s.visitors)).toEqual([16, 6])
    expect(await page.$$eval('#card-funnel .funnel li', (lis) => lis.map((li) => [(li as HTMLElement).dataset.step, li.querySelector('.num')?.textContent]))).toEqual(
      body.steps.map((s) => [s.step, integer(s.visitors!)]),
    )
  })
})

describe('downloads', () => {
  it('a panel’s CSV is the API’s CSV for the same request', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#card-pages button.csv')])
    const file = readFileSync((await download.path())!, 'utf8')
    const shown = lastRequest('breakdown', { dimension: 'url_path' })
    shown.searchParams.set('format', 'csv')
    const res = await fetch(shown, { headers: { authorization: `Bearer ${KEYS.analyst}` } })
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/)
    const expected = await res.text()
    expect(file).toBe(expected)
    expect(file).toContain('/pricing')
    expect(download.suggestedFilename()).toMatch(/^web-breakdown-.*\.csv$/)
  })

  it('“Export all” saves the API’s zip of every panel', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-all')])
    const zip = readFileSync((await download.path())!)
    expect(zip.subarray(0, 2).toString()).toBe('PK')
    for (const name of ['aggregate.csv', 'pages.csv', 'channels.csv', 'goals.csv']) expect(zip.includes(Buffer.from(name)), name).toBe(true)
    expect(download.suggestedFilename()).toMatch(/\.zip$/)
  })
})

describe('realtime', () => {
  it('polls /realtime every 10 s and shows visitors of the last 5 minutes as events arrive', async () => {
    const realtime = () => requests.filter((r) => r.includes('/v1/stats/realtime?'))
    expect(realtime().length).toBeGreaterThan(0)
    const now = Date.now()
    await send(WRITE.web, '81.2.69.142', undefined, range(6).map((i) => pv(`live${i}`, '/live', now - 30_000)))
    await expect.poll(() => page.textContent('#realtime-visitors'), { timeout: 45_000, interval: 500 }).toBe('6')
    const body = await api<{ visitors_5m: number | null; minutes: { events: number | null }[] }>(new URL(realtime().at(-1)!))
    expect(body.visitors_5m).toBe(6)
    expect(await page.$$eval('#card-realtime rect.spark-bar, #card-realtime rect.spark-hidden', (rs) => rs.length)).toBe(30)
    // Polling, not a one-off: at least two more polls within 25 s.
    const before = realtime().length
    await page.waitForTimeout(21_000)
    expect(realtime().length - before).toBeGreaterThanOrEqual(2)
  }, 90_000)
})

describe('an empty site', () => {
  it('shows the snippet (with a placeholder key) and the integration view, which shows a first bot within seconds', async () => {
    await settle(page, () => page.selectOption('#site', 'fresh'))
    await page.waitForSelector('#install:not([hidden])')
    const snippet = (await page.textContent('#install .snippet')) ?? ''
    expect(snippet).toContain('data-site="pk_YOUR_SITE_WRITE_KEY"')
    expect(await page.textContent('#install')).not.toContain(WRITE.fresh)
    // Instead of a page of zeros: no headline cards, chart or panels; realtime stays.
    for (const hidden of ['#metrics', '#card-traffic', '#card-pages', '#card-goals']) expect(await page.isHidden(hidden), hidden).toBe(true)
    expect(await page.isVisible('#card-realtime')).toBe(true)
    await expect.poll(() => page.textContent('#integration-last')).toBe('none in the last 30 minutes')
    await send(WRITE.fresh, '81.2.69.142', HEADLESS_UA, [pv('bot', '/', Date.now() - 1000)])
    await expect.poll(() => page.textContent('#integration-bots caption'), { timeout: 45_000, interval: 500 }).toContain('1 event')
    expect(await page.textContent('#integration-last')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/)
    const integration = await api<{ bots: { events: number } }>(`${pipeline.backoffice}/v1/stats/realtime/integration?site=fresh`)
    expect(integration.bots.events).toBe(1)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard15-install.png'), fullPage: true })
    await settle(page, () => page.selectOption('#site', 'web'))
    expect(await page.isHidden('#install')).toBe(true)
    expect(await page.isVisible('#metrics')).toBe(true)
  }, 90_000)
})

describe('a key that is no longer valid', () => {
  it('after a restart the stored key is refused: the page says what to do and returns to sign-in', async () => {
    const p = await laptop.newPage()
    p.on('pageerror', (e) => consoleErrors.push(e.message))
    await p.goto(`${pipeline.backoffice}/dashboard`)
    await p.evaluate((key) => sessionStorage.setItem('atspark.dashboard.apiKey', key), newKey())
    await p.reload()
    await p.waitForSelector('#signin:not([hidden])')
    expect(await p.textContent('#signin-error')).toBe(
      'This key is no longer valid. The demo mints new keys at every npm start — paste the analyst key printed in the terminal (or in data/dev.env).',
    )
    expect(await p.evaluate(() => sessionStorage.length)).toBe(0)
    await p.close()
  })
})

describe('a shared link', () => {
  let link: { id: string; url: string }
  let shared: BrowserContext
  let sp: Page

  beforeAll(async () => {
    const res = await fetch(`${pipeline.backoffice}/v1/shares`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ site: 'web', expires_in_days: 7, label: 'Board' }),
    })
    expect(res.status).toBe(201)
    link = (await res.json()) as { id: string; url: string }
    shared = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    sp = await shared.newPage()
    sp.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()))
    sp.on('pageerror', (e) => consoleErrors.push(e.message))
    sp.on('request', (r) => requests.push(r.url()))
  })

  afterAll(async () => {
    await shared?.close()
  })

  it('works without signing in, read-only, with the same numbers as the API behind the link', async () => {
    await settle(sp, () => sp.goto(`${pipeline.backoffice}${link.url}?days=7`))
    expect(await sp.isHidden('#signin')).toBe(true)
    expect(await sp.isHidden('#sign-out')).toBe(true)
    expect(await sp.textContent('#shared-banner')).toMatch(/^Shared view of web: read-only/)
    const url = lastRequest('aggregate')
    expect(url.pathname).toBe(`/v1/shared/${link.url.split('/').at(-1)}/stats/aggregate`)
    const metrics = await expectCardsEqualApi(sp, url, null)
    expect(metrics.visitors?.value).toBeGreaterThanOrEqual(18)
    // Filters work the same way, kept in the shared page's URL.
    await settle(sp, () => sp.click('#card-countries tr[data-value="GB"] button.row-filter'))
    expect(new URL(sp.url()).pathname).toBe(link.url)
    expect(filtersInUrl(sp)).toBe('country==GB')
    await expectCardsEqualApi(sp, lastRequest('aggregate', { filters: 'country==GB' }), null)
    // No key anywhere: the shared page sends none.
    expect(await sp.evaluate(() => sessionStorage.length)).toBe(0)
    await sp.screenshot({ path: join(ARTIFACTS, 'dashboard15-shared.png') })
  })

  it('once revoked, the open page says the link is gone and a new visit gets 404', async () => {
    const res = await fetch(`${pipeline.backoffice}/v1/shares/${link.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEYS.admin}` } })
    expect(res.status).toBe(200)
    await sp.click('button[data-days="30"]')
    await sp.waitForSelector('#gone:not([hidden])')
    expect(await sp.isHidden('#dashboard')).toBe(true)
    expect(await sp.textContent('#gone-message')).toMatch(/does not exist, has expired or was revoked/)
    const again = await sp.goto(`${pipeline.backoffice}${link.url}`)
    expect(again?.status()).toBe(404)
  })
})

describe('on a phone (390 px)', () => {
  it('has no horizontal scroll with filters on; headline cards stack two by two', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true })
    const p = await phone.newPage()
    const errors: string[] = []
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    p.on('request', (r) => requests.push(r.url()))
    await p.goto(`${pipeline.backoffice}/dashboard?site=web&days=7&filters=${encodeURIComponent('country==GB;url_path==/pricing')}`)
    await p.fill('#api-key', KEYS.analyst)
    await settle(p, () => p.click('#signin-submit'))
    expect(await chips(p)).toHaveLength(2)
    expect(await p.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(390)
    const lefts = await p.$$eval('#metrics .metric', (ms) => ms.map((m) => Math.round(m.getBoundingClientRect().left)))
    expect(new Set(lefts).size).toBe(2)
    for (const box of await p.$$eval('.card:not([hidden]), .metric, .chip', (els) => els.map((e) => e.getBoundingClientRect().right))) expect(box).toBeLessThanOrEqual(390)
    expect(errors).toEqual([])
    await p.screenshot({ path: join(ARTIFACTS, 'dashboard15-phone.png'), fullPage: true })
    await phone.close()
  })
})

describe('the page as a whole', () => {
  it('logged no console error but the expected 401/404s and violated no CSP directive', async () => {
    expect(consoleErrors.filter((e) => !/status of 40[14]/.test(e))).toEqual([])
    expect(await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([])
    const origin = new URL(pipeline.backoffice).origin
    for (const r of requests) expect(new URL(r).origin, r).toBe(origin)
  })
})
