import type { ClickHouseClient } from '@clickhouse/client'
import { type Browser, chromium, type Request } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

let pipeline: RunningPipeline
let browser: Browser
let warehouse: ClickHouseClient | undefined
const batchRequests: Request[] = []
const afterRefusal: Request[] = []
const consoleErrors: string[] = []
let exitCode: number | null
let stateAfterToggle = ''

beforeAll(async () => {
  pipeline = await startPipeline()
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
  const page = await browser.newPage()
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()))
  page.on('pageerror', (e) => consoleErrors.push(e.message))
  let refused = false
  page.on('request', (r) => {
    if (!r.url().endsWith('/v1/batch')) return
    batchRequests.push(r)
    if (refused) afterRefusal.push(r)
  })

  await page.goto(`${pipeline.demo}/`)
  await page.waitForFunction(() => 'atspark' in window)
  await page.click('#run-query')
  await page.click('#open-dashboard')
  await page.click('#use-feature')
  const flushed = page.waitForResponse((r) => r.url().endsWith('/v1/batch') && r.status() === 202)
  await page.click('#flush')
  await flushed
  await page.waitForSelector('#log:has-text("sent")')

  // Turning analytics off in account settings must stop every analytics request, even for clicks afterwards.
  await page.uncheck('#analytics-toggle')
  refused = true
  stateAfterToggle = (await page.textContent('#consent-state')) ?? ''
  await page.click('#run-query')
  await page.click('#flush')
  await page.waitForTimeout(500)
  await browser.close()
  exitCode = await pipeline.stop()
  warehouse = openWarehouse(pipeline.dataDir)
})

afterAll(async () => {
  await browser?.close()
  await warehouse?.close()
})

describe('demo page in real Chromium → ingest → processor → warehouse', () => {
  it('loaded the built SDK under the demo page strict CSP without errors', () => {
    expect(consoleErrors).toEqual([])
    expect(batchRequests.length).toBeGreaterThan(0)
    expect(exitCode).toBe(0)
  })

  it('stored the automatic pageview and the three clicks with browser-side device data', async () => {
    const stored = await rows<{ type: string; name: string; url_path: string; browser: string; os: string; screen_w: number; tz: string; ip_prefix: string }>(
      warehouse!,
      'SELECT type, name, url_path, browser, os, screen_w, tz, ip_prefix FROM atspark.events ORDER BY ts',
    )
    expect(stored.map((r) => `${r.type}:${r.name}`)).toEqual(['pageview:', 'query:revenue_by_region', 'dashboard:revenue', 'feature:smart_filters'])
    for (const r of stored) {
      expect(r.url_path).toBe('/')
      expect(r.browser).toMatch(/Chrom/)
      expect(r.os).toBe('Linux')
      expect(r.screen_w).toBeGreaterThan(0)
      expect(r.tz).not.toBe('')
      // Loopback, truncated like any other address.
      expect(r.ip_prefix).toMatch(/^(127\.0\.0\.0\/24|::\/48)$/)
    }
  })

  it('sent no analytics request after the account-settings toggle went off, and logged the receipt', async () => {
    expect(afterRefusal).toEqual([])
    expect(stateAfterToggle).toContain('analytics off')
    const [n] = await rows<{ n: string }>(warehouse!, "SELECT count() AS n FROM atspark.events WHERE name = 'revenue_by_region'")
    expect(n?.n).toBe('1')
    const receipts = await rows(warehouse!, "SELECT analytics, source FROM atspark.consent_log WHERE site_id = 'demo'")
    expect(receipts).toEqual([{ analytics: false, source: 'api' }])
  })
})
