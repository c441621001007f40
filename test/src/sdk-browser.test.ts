import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WireBatch, WireConsentReceipt } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js'
import { type PageServer, startPageServer } from './support/page-server.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { freePort } from './support/ports.js'
import { openWarehouse, rows } from './support/warehouse.js'

// Two sites of one org, each on its own localhost origin, both embedding the built SDK from ingest.
let pipeline: RunningPipeline
let browser: Browser
let optIn: PageServer
let optOut: PageServer
let warehouse: ClickHouseClient | undefined
/** When the opt-in page granted (browser clock): receipts are stored by the hour only, so the warehouse check compares with this. */
let grantedAt = 0

interface Seen {
  batches: WireBatch[]
  receipts: WireConsentReceipt[]
  /** Every request to ingest's write paths, in order, with the time it left. */
  log: { path: string; at: number }[]
}

beforeAll(async () => {
  const [inPort, outPort] = [await freePort(), await freePort()]
  const dir = mkdtempSync(join(tmpdir(), 'atspark-tenants-'))
  const tenantsFile = join(dir, 'tenants.json')
  writeFileSync(
    tenantsFile,
    JSON.stringify({
      orgs: [
        {
          id: 'shop',
          name: 'Shop',
          sites: [
            { id: 'optin', write_key: 'pk_optin', allowed_origins: [`http://localhost:${inPort}`], consent_mode: 'opt-in', policy_revision: '1' },
            { id: 'optout', write_key: 'pk_optout', allowed_origins: [`http://localhost:${outPort}`], consent_mode: 'opt-out', policy_revision: '1' },
          ],
        },
      ],
    }),
  )
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: tenantsFile })
  optIn = await startPageServer(inPort, pipeline.ingest, { site: 'pk_optin', mode: 'opt-in' })
  optOut = await startPageServer(outPort, pipeline.ingest, { site: 'pk_optout', mode: 'opt-out' })
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([optIn?.close(), optOut?.close()])
  if (!warehouse) await pipeline?.stop()
  await warehouse?.close()
})

/** A fresh browser profile (no cookies, no storage) with every ingest write recorded. */
async function open(context: BrowserContext, url: string): Promise<{ page: Page; seen: Seen }> {
  const seen: Seen = { batches: [], receipts: [], log: [] }
  context.on('request', (r) => {
    const path = new URL(r.url()).pathname
    if (path !== '/v1/batch' && path !== '/v1/consent') return
    seen.log.push({ path, at: Date.now() })
    const body = r.postData()
    if (!body) return
    if (path === '/v1/batch') seen.batches.push(JSON.parse(body) as WireBatch)
    else seen.receipts.push(JSON.parse(body) as WireConsentReceipt)
  })
  const page = await context.newPage()
  await page.goto(url)
  await page.waitForFunction(() => typeof (window as { atspark?: { consent?: unknown } }).atspark?.consent === 'object')
  return { page, seen }
}

/** The processor's count of events dropped as already written (retried ids). */
async function duplicateEvents(): Promise<number> {
  const text = await (await fetch(`${pipeline.backoffice}/metrics`)).text()
  return Number(/^atspark_processor_duplicate_events_total (\d+)$/m.exec(text)?.[1] ?? 0)
}

/** Events ingest has accepted so far (its counter, served by the embedded back office). */
async function acceptedEvents(): Promise<number> {
  const text = await (await fetch(`${pipeline.backoffice}/metrics`)).text()
  return Number(/^atspark_ingest_events_total\{outcome="accepted"\} (\d+)$/m.exec(text)?.[1] ?? 0)
}

const names = (seen: Seen) => seen.batches.flatMap((b) => b.e.map((e) => e.n ?? e.t))
const settle = (ms = 800) => new Promise((r) => setTimeout(r, ms))

describe('the built SDK in Debian Chromium', () => {
  it('opt-in with no decision sends nothing, then a grant sends the held events with their original timestamps', async () => {
    const context = await browser.newContext()
    const { page, seen } = await open(context, `${optIn.origin}/pricing`)
    const heldAt = await page.evaluate(() => {
      const t = Date.now()
      window.atspark.track('held_1')
      window.atspark.query('held_query')
      return t
    })
    await page.evaluate(() => window.atspark.flush())
    await settle(1500)
    expect(seen.log).toEqual([])
    expect(await page.evaluate(() => window.atspark.consent.get())).toMatchObject({ essential: true, analytics: false, decided: false })

    grantedAt = await page.evaluate(() => {
      const t = Date.now()
      window.atspark.consent.set({ analytics: true })
      return t
    })
    await page.evaluate(() => window.atspark.flush())
    await expect.poll(() => names(seen), { timeout: 5000 }).toEqual(expect.arrayContaining(['pageview', 'held_1', 'held_query']))
    const held = seen.batches.flatMap((b) => b.e).filter((e) => e.n === 'held_1' || e.n === 'held_query')
    for (const e of held) {
      expect(e.ts).toBeGreaterThanOrEqual(heldAt)
      expect(e.ts).toBeLessThan(grantedAt)
    }
    expect(seen.receipts).toEqual([expect.objectContaining({ a: true, src: 'api', r: '1', k: 'pk_optin' })])
    await context.close()
  })

  it('a refusal discards held events and sends only the receipt', async () => {
    const context = await browser.newContext()
    const { page, seen } = await open(context, `${optIn.origin}/`)
    await page.evaluate(() => {
      window.atspark.track('refused_1')
      window.atspark.consent.set({ analytics: false }, 'banner')
      window.atspark.track('refused_2')
      return window.atspark.flush()
    })
    await settle()
    expect(seen.batches).toEqual([])
    expect(seen.receipts).toEqual([expect.objectContaining({ a: false, src: 'banner' })])
    expect(Object.keys(seen.receipts[0]!).sort()).toEqual(['a', 'id', 'k', 'p', 'r', 'sa', 'src', 'ts', 'v'])
    await context.close()
  })

  it('withdrawal drops what was queued, sends nothing afterwards and leaves no analytics cookie or storage', async () => {
    const context = await browser.newContext()
    const { page, seen } = await open(context, `${optOut.origin}/app`)
    await page.evaluate(() => {
      window.atspark.identify('user-7')
      window.atspark.track('before_withdrawal')
      return window.atspark.flush()
    })
    await expect.poll(() => names(seen)).toContain('before_withdrawal')
    const before = { batches: seen.batches.length, receipts: seen.receipts.length }
    const withdrawnAt = Date.now()
    await page.evaluate(() => {
      window.atspark.track('queued_then_withdrawn')
      window.atspark.consent.set({ analytics: false })
      window.atspark.track('after_withdrawal')
      window.atspark.page()
      return window.atspark.flush()
    })
    await page.click('#cta')
    await page.evaluate(() => window.atspark.flush())
    await settle()
    // From the withdrawal on, the only request is the essential receipt saying so.
    expect(seen.log.filter((r) => r.at >= withdrawnAt).map((r) => r.path)).toEqual(['/v1/consent'])
    expect(seen.batches).toHaveLength(before.batches)
    expect(seen.receipts.slice(before.receipts)).toEqual([expect.objectContaining({ a: false, src: 'api' })])
    expect(names(seen)).not.toContain('queued_then_withdrawn')
    expect(names(seen)).not.toContain('after_withdrawal')
    expect(names(seen)).not.toContain('cta_clicked')
    const cookies = await context.cookies()
    expect(cookies.map((c) => c.name)).toEqual(['atspark_consent'])
    const storage = await page.evaluate(() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)])
    expect(storage).toEqual([])
    await context.close()
  })

  it.each([
    ['dnt', { DNT: '1' }, "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' })"],
    ['gpc', { 'Sec-GPC': '1' }, "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true })"],
  ])('%s blocks analytics, page code cannot override it, and blockedBy says which', async (signal, headers, script) => {
    const context = await browser.newContext({ extraHTTPHeaders: headers })
    await context.addInitScript({ content: script })
    const { page, seen } = await open(context, `${optOut.origin}/signals`)
    const state = await page.evaluate(() => {
      window.atspark.consent.set({ analytics: true })
      window.atspark.track('blocked_by_signal')
      return window.atspark.flush().then(() => window.atspark.consent.get())
    })
    await settle()
    expect(state).toMatchObject({ analytics: false, blockedBy: signal })
    expect(seen.batches).toEqual([])
    expect(seen.receipts.some((r) => r.src === signal && r.a === false)).toBe(true)
    await context.close()
  })

  it('a batch that landed but was answered 503 is retried with the same ids and stored once', async () => {
    const context = await browser.newContext()
    const duplicatesBefore = await duplicateEvents()
    let attempts = 0
    let firstLanded = 0
    await context.route(`${pipeline.ingest}/v1/batch`, async (route) => {
      if (route.request().method() !== 'POST') return route.continue()
      attempts++
      if (attempts === 1) {
        // The real ingest stores the batch; the page is told 503, as when an answer is lost after the write.
        firstLanded = (await route.fetch()).status()
        return route.fulfill({
          status: 503,
          headers: { 'retry-after': '1', 'access-control-allow-origin': optOut.origin, 'access-control-expose-headers': 'Retry-After' },
          body: '{"error":"bus_unavailable"}',
        })
      }
      return route.continue()
    })
    const { page, seen } = await open(context, `${optOut.origin}/retry`)
    await page.evaluate(() => {
      for (let i = 0; i < 5; i++) window.atspark.track('retried')
      return window.atspark.flush()
    })
    await expect.poll(() => attempts, { timeout: 15_000 }).toBeGreaterThanOrEqual(2)
    await settle(1500)
    expect(firstLanded).toBe(202)
    const sent = seen.batches.map((b) => b.e.filter((e) => e.n === 'retried').map((e) => e.id))
    expect(sent[0]).toHaveLength(5)
    // The retry carries the same ids, so the server recognises all five as already written.
    expect(sent.at(-1)).toEqual(sent[0])
    // Every event of the first batch (the five and the page's pageview) came back and was recognised.
    await expect.poll(async () => (await duplicateEvents()) - duplicatesBefore, { timeout: 5_000 }).toBe(seen.batches[0]!.e.length)
    await context.close()
    // "stored the retried events exactly once" below counts them in the warehouse.
  })

  it('a long burst is delivered whole: 1,200 events in 60 tasks, none held back by the 64 KiB keepalive budget', async () => {
    const context = await browser.newContext()
    let answered = 0
    context.on('response', (r) => {
      if (new URL(r.url()).pathname === '/v1/batch' && r.status() === 202) answered++
    })
    const { page, seen } = await open(context, `${optOut.origin}/burst`)
    await page.evaluate(async () => {
      for (let i = 0; i < 60; i++) {
        for (let k = 0; k < 20; k++) window.atspark.track('burst', { i, k })
        await new Promise((r) => setTimeout(r, 5))
      }
      await window.atspark.flush()
    })
    // Unread answers used to hold their bodies against the budget: after ~10 batches every fetch failed at once.
    const burst = () => new Set(seen.batches.flatMap((b) => b.e.filter((e) => e.n === 'burst').map((e) => e.id))).size
    await expect.poll(burst, { timeout: 15_000 }).toBe(1200)
    // Each event left once: no request failed and had to be retried.
    expect(seen.batches.flatMap((b) => b.e.filter((e) => e.n === 'burst')).length).toBe(1200)
    // And every request was acknowledged (closing the page would cancel any still in flight).
    await expect.poll(() => answered, { timeout: 15_000 }).toBe(seen.batches.length)
    await context.close()
  })

  it('a 400 is not retried', async () => {
    const context = await browser.newContext()
    let attempts = 0
    await context.route(`${pipeline.ingest}/v1/batch`, (route) => {
      attempts++
      return route.fulfill({ status: 400, headers: { 'access-control-allow-origin': optOut.origin }, body: '{"error":"invalid_batch"}' })
    })
    const { page } = await open(context, `${optOut.origin}/bad`)
    await page.evaluate(() => window.atspark.flush())
    await settle(3000)
    expect(attempts).toBe(1)
    await context.close()
  })

  it('navigating away delivers the last batch', async () => {
    const context = await browser.newContext()
    const { page, seen } = await open(context, `${optOut.origin}/leaving`)
    await page.evaluate(() => window.atspark.track('last_words'))
    await settle(300)
    // Still queued (the batch timer is seconds away): only leaving the page can deliver it.
    expect(names(seen)).not.toContain('last_words')
    const acceptedBefore = await acceptedEvents()
    const leftAt = Date.now()
    await page.click('#next')
    await page.waitForURL('**/next-page')
    // The next page's first batch is 5 s away: events accepted before then left with the page that went away
    // (Chromium hides the beacon itself from the driver, so ingest's own counter is the witness).
    await expect.poll(acceptedEvents, { timeout: 2_500 }).toBeGreaterThan(acceptedBefore)
    expect(Date.now() - leftAt).toBeLessThan(4_500)
    await context.close()
    // "stored the last batch sent while leaving" below finds the event itself in the warehouse.
  })

  it('SPA navigation, marked clicks and outbound links are captured', async () => {
    const context = await browser.newContext()
    await context.route('https://outbound.example/**', (route) => route.fulfill({ status: 204 }))
    const { page, seen } = await open(context, `${optOut.origin}/spa`)
    await page.evaluate(() => history.pushState({}, '', '/spa/step-2?secret=1'))
    await page.evaluate(() => history.back())
    await page.waitForURL('**/spa')
    await page.click('#cta')
    await page.evaluate(() => window.atspark.flush())
    await page.click('#out')
    await expect.poll(() => seen.batches.flatMap((b) => b.e).map((e) => `${e.t}:${e.n ?? new URL(e.u ?? 'x:').pathname}`), { timeout: 5000 }).toEqual(
      expect.arrayContaining(['pageview:/spa', 'pageview:/spa/step-2', 'click:cta_clicked', 'click:outbound']),
    )
    const pageviews = seen.batches.flatMap((b) => b.e).filter((e) => e.t === 'pageview')
    expect(pageviews.map((e) => new URL(e.u!).pathname)).toEqual(['/spa', '/spa/step-2', '/spa'])
    expect(JSON.stringify(seen.batches)).not.toContain('secret=1')
    await context.close()
  })

  it('the consent banner works by keyboard alone', async () => {
    const context = await browser.newContext()
    const { page, seen } = await open(context, `${optIn.origin}/banner?ui=1`)
    const banner = page.getByRole('dialog')
    await expect.poll(() => banner.isVisible()).toBe(true)
    const activeText = () => page.evaluate(() => document.activeElement?.textContent?.trim() ?? '')
    for (let i = 0; i < 10 && (await activeText()) !== 'Accept all'; i++) await page.keyboard.press('Tab')
    expect(await activeText()).toBe('Accept all')
    await page.keyboard.press('Enter')
    await expect.poll(() => seen.receipts).toEqual([expect.objectContaining({ a: true, p: true, src: 'banner' })])
    await expect.poll(() => banner.isVisible()).toBe(false)
    expect(await page.evaluate(() => window.atspark.consent.get())).toMatchObject({ analytics: true, decided: true })
    await context.close()
  })
})

describe('what reached the warehouse', () => {
  beforeAll(async () => {
    expect(await pipeline.stop()).toBe(0)
    warehouse = openWarehouse(pipeline.dataDir)
  })

  async function count(where: string): Promise<number> {
    const [r] = await rows<{ n: string }>(warehouse!, `SELECT count() AS n FROM atspark.events WHERE ${where}`)
    return Number(r?.n)
  }

  it('stored the held events under their original timestamps, before the grant', async () => {
    const [r] = await rows<{ n: string; held: string }>(
      warehouse!,
      "SELECT count() AS n, toUnixTimestamp64Milli(max(ts)) AS held FROM atspark.events WHERE name IN ('held_1', 'held_query')",
    )
    expect(r!.n).toBe('2')
    expect(grantedAt).toBeGreaterThan(0)
    expect(Number(r!.held)).toBeLessThan(grantedAt)
  })

  it('stored nothing that was refused, withdrawn or blocked by a signal', async () => {
    expect(await count("name IN ('refused_1', 'refused_2', 'queued_then_withdrawn', 'after_withdrawal', 'blocked_by_signal')")).toBe(0)
    expect(await count("name = 'before_withdrawal'")).toBe(1)
  })

  it('stored the whole burst exactly once', async () => {
    const [r] = await rows<{ n: string; u: string }>(warehouse!, "SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events WHERE name = 'burst'")
    expect(r).toEqual({ n: '1200', u: '1200' })
  })

  it('stored the retried events exactly once', async () => {
    const [r] = await rows<{ n: string; u: string }>(warehouse!, "SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events WHERE name = 'retried'")
    expect(r).toEqual({ n: '5', u: '5' })
  })

  it('stored the last batch sent while leaving, SPA pageviews and autocaptured clicks', async () => {
    expect(await count("name = 'last_words'")).toBe(1)
    expect(await count("type = 'pageview' AND url_path = '/spa/step-2'")).toBe(1)
    expect(await count("type = 'click' AND name = 'cta_clicked'")).toBeGreaterThanOrEqual(1)
    expect(await count("type = 'click' AND name = 'outbound'")).toBe(1)
  })

  it('logged every receipt, with the signal as the source where one blocked analytics', async () => {
    const sources = await rows<{ source: string; analytics: boolean }>(warehouse!, 'SELECT source, analytics FROM atspark.consent_log ORDER BY received_at')
    expect(sources).toEqual(
      expect.arrayContaining([
        { source: 'dnt', analytics: false },
        { source: 'gpc', analytics: false },
        { source: 'banner', analytics: true },
        { source: 'banner', analytics: false },
      ]),
    )
  })
})
