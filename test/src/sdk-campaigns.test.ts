import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WireBatch } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js'
import { type PageServer, startPageServer } from './support/page-server.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { freePort } from './support/ports.js'
import { openWarehouse, rows } from './support/warehouse.js'

// Campaign tags from a real address bar to the warehouse: Debian Chromium runs the built SDK on a page
// opened from a newsletter link that also carries an e-mail address, a token and a fragment; the built
// embedded pipeline stores the campaign and the Email channel, and nothing personal in any column.

const CAMPAIGN = 'utm_source=newsletter&utm_medium=email&utm_campaign=spring'
const LANDING = `/?${CAMPAIGN}&email=jane%40example.com&token=abc123#utm_term=frag`
// A tag that holds an e-mail address (a link built per recipient) is dropped by the processor.
const PER_RECIPIENT = `/offer?${CAMPAIGN}&utm_content=jane%40example.com`
/** What must never reach the warehouse, decoded and as sent. */
const PERSONAL = ['jane@example.com', 'jane%40example.com', 'jane', 'abc123', 'frag']

let pipeline: RunningPipeline
let browser: Browser
let pages: PageServer
let warehouse: ClickHouseClient | undefined
const sent: WireBatch[] = []

beforeAll(async () => {
  const port = await freePort()
  const tenantsFile = join(mkdtempSync(join(tmpdir(), 'atspark-campaigns-')), 'tenants.json')
  writeFileSync(
    tenantsFile,
    JSON.stringify({
      orgs: [
        {
          id: 'shop',
          name: 'Shop',
          sites: [{ id: 'news', write_key: 'pk_news', allowed_origins: [`http://localhost:${port}`], consent_mode: 'opt-in', policy_revision: '1' }],
        },
      ],
    }),
  )
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: tenantsFile })
  pages = await startPageServer(port, pipeline.ingest, { site: 'pk_news', mode: 'opt-in' })
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
})

afterAll(async () => {
  await browser?.close()
  await pages?.close()
  if (!warehouse) await pipeline?.stop()
  await warehouse?.close()
})

/** Opens `path` in a fresh profile, grants analytics, and waits until its pageview has left the browser. */
async function visit(path: string): Promise<void> {
  const context = await browser.newContext()
  const batches: WireBatch[] = []
  context.on('request', (r) => {
    const body = r.postData()
    if (new URL(r.url()).pathname === '/v1/batch' && body) batches.push(JSON.parse(body) as WireBatch)
  })
  const page = await context.newPage()
  await page.goto(`${pages.origin}${path}`)
  await page.waitForFunction(() => typeof (window as { atspark?: { consent?: unknown } }).atspark?.consent === 'object')
  await page.evaluate(() => {
    window.atspark.consent.set({ analytics: true })
    return window.atspark.flush()
  })
  await expect.poll(() => batches.flatMap((b) => b.e).filter((e) => e.t === 'pageview').length, { timeout: 5000 }).toBe(1)
  // Ingest answered before the page goes: the batch is on its way to the warehouse.
  await page.waitForLoadState('networkidle')
  sent.push(...batches)
  await context.close()
}

describe('campaign tags in Debian Chromium', () => {
  it('sends the page with its utm_* tags and nothing else of the query or fragment', async () => {
    await visit(LANDING)
    await visit(PER_RECIPIENT)
    const urls = sent.flatMap((b) => b.e.map((e) => e.u))
    for (const u of urls) for (const personal of ['abc123', 'frag', 'email=']) expect(u).not.toContain(personal)
    expect(urls).toContain(`${pages.origin}/?${CAMPAIGN}`)
    expect(urls).toContain(`${pages.origin}${PER_RECIPIENT}`)
  })
})

describe('what reached the warehouse', () => {
  beforeAll(async () => {
    expect(await pipeline.stop()).toBe(0)
    warehouse = openWarehouse(pipeline.dataDir)
  })

  it('stored the campaign and the Email channel on the landing pageview', async () => {
    const stored = await rows<Record<string, string>>(
      warehouse!,
      "SELECT url_path, utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel FROM atspark.events WHERE type = 'pageview' ORDER BY url_path",
    )
    const campaign = { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'spring', utm_term: '', channel: 'Email' }
    expect(stored).toEqual([
      { url_path: '/', ...campaign, utm_content: '' },
      { url_path: '/offer', ...campaign, utm_content: '' },
    ])
  })

  it('kept no e-mail address, token or fragment in any String column of events', async () => {
    const columns = await rows<{ name: string }>(
      warehouse!,
      "SELECT name FROM system.columns WHERE database = 'atspark' AND table = 'events' AND type LIKE '%String%' ORDER BY position",
    )
    expect(columns.map((c) => c.name)).toEqual(expect.arrayContaining(['url_path', 'utm_content', 'utm_term', 'channel']))
    for (const { name } of columns) {
      for (const personal of PERSONAL) {
        const [hit] = await rows<{ n: string }>(warehouse!, `SELECT count() AS n FROM atspark.events WHERE positionCaseInsensitive(toString(\`${name}\`), '${personal}') > 0`)
        expect(`${name} ${personal} ${hit?.n}`).toBe(`${name} ${personal} 0`)
      }
    }
    // Whole rows too, in case a column's type hides a string (maps, arrays, JSON).
    const dump = JSON.stringify(await rows(warehouse!, 'SELECT * FROM atspark.events')).toLowerCase()
    expect(dump).toContain('newsletter')
    for (const personal of PERSONAL) expect(dump).not.toContain(personal)
  })
})
