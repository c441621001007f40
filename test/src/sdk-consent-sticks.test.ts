// Issue 13, items 1 and 3, in Debian Chromium over the built SDK and a real pipeline: a refusal outlives a policy
// revision (and its cookie is renewed on every visit), and control characters from page code never cost a browser
// its events (cleaned before queueing, healed where an older SDK stored them).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WireBatch, WireConsentReceipt } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { freePort } from './support/ports.js'
import { openWarehouse, rows } from './support/warehouse.js'

let pipeline: RunningPipeline
let browser: Browser
let warehouse: ClickHouseClient | undefined
const servers: Server[] = []
const origins = { optIn: '', optOut: '' }

/** 390 days: the SDK's cookie life (within 13 months from any date). */
const MAX_AGE_S = 390 * 86_400

/**
 * A product page embedding the built SDK under a strict CSP; `?rev=` sets its policy revision (the point of these
 * tests, which the shared page server fixes at 1) and `?ui` adds the consent banner.
 */
async function pageServer(port: number, site: string, mode: 'opt-in' | 'opt-out'): Promise<string> {
  const ingest = pipeline.ingest
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/favicon.ico') return void res.writeHead(204).end()
    const revision = url.searchParams.get('rev') ?? '1'
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; script-src ${ingest}; connect-src ${ingest}; style-src 'self'; base-uri 'none'`,
    })
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>page ${url.pathname}</title>
<script src="${ingest}/sdk/atspark.min.js" data-site="${site}" data-endpoint="${ingest}" data-mode="${mode}" data-policy-revision="${revision}"></script>
${url.searchParams.has('ui') ? `<script src="${ingest}/sdk/atspark-consent.min.js"></script>` : ''}
</head><body><h1>${url.pathname}</h1></body></html>`)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return `http://localhost:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  const [inPort, outPort] = [await freePort(), await freePort()]
  const tenantsFile = join(mkdtempSync(join(tmpdir(), 'atspark-tenants-')), 'tenants.json')
  writeFileSync(
    tenantsFile,
    JSON.stringify({
      orgs: [
        {
          id: 'sticks',
          name: 'Sticks',
          sites: [
            { id: 'optin', write_key: 'pk_sticks_in', allowed_origins: [`http://localhost:${inPort}`], consent_mode: 'opt-in', policy_revision: '2' },
            { id: 'optout', write_key: 'pk_sticks_out', allowed_origins: [`http://localhost:${outPort}`], consent_mode: 'opt-out', policy_revision: '2' },
          ],
        },
      ],
    }),
  )
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: tenantsFile })
  origins.optIn = await pageServer(inPort, 'pk_sticks_in', 'opt-in')
  origins.optOut = await pageServer(outPort, 'pk_sticks_out', 'opt-out')
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
})

afterAll(async () => {
  await browser?.close()
  for (const server of servers) await new Promise((done) => server.close(done))
  if (!warehouse) await pipeline?.stop()
  await warehouse?.close()
})

interface Seen {
  /** Every request to ingest's write paths, in order, with its body parsed and the status it was answered with. */
  log: { path: string; at: number; body: unknown; status?: number }[]
}

/** A fresh browser profile recording every request to ingest's write paths. */
async function profile(): Promise<{ context: BrowserContext; seen: Seen }> {
  const context = await browser.newContext()
  const seen: Seen = { log: [] }
  const entries = new Map<unknown, Seen['log'][number]>()
  context.on('request', (r) => {
    const path = new URL(r.url()).pathname
    if (path !== '/v1/batch' && path !== '/v1/consent') return
    const text = r.postData()
    const entry = { path, at: Date.now(), body: text ? JSON.parse(text) : undefined }
    entries.set(r, entry)
    seen.log.push(entry)
  })
  context.on('response', (r) => {
    const entry = entries.get(r.request())
    if (entry) entry.status = r.status()
  })
  return { context, seen }
}

async function visit(page: Page, url: string): Promise<void> {
  await page.goto(url)
  await page.waitForFunction(() => typeof (window as { atspark?: { consent?: unknown } }).atspark?.consent === 'object')
}

const batches = (seen: Seen, since = 0) => seen.log.filter((r) => r.path === '/v1/batch' && r.at >= since)
const names = (seen: Seen) => batches(seen).flatMap((r) => (r.body as WireBatch).e.map((e) => e.n ?? e.t))
const consentCookie = async (context: BrowserContext) => (await context.cookies()).find((c) => c.name === 'atspark_consent')
const settle = (ms = 1500) => new Promise((r) => setTimeout(r, ms))

describe('a refusal outlives a policy revision (built SDK, Chromium)', () => {
  it('opt-out: refused at revision 1, revision 2 sends no analytics request, keeps no id, and the refusal stays in force', async () => {
    const { context, seen } = await profile()
    const page = await context.newPage()
    await visit(page, `${origins.optOut}/refuser-r1?rev=1`)
    await page.evaluate(() => window.atspark.flush())
    await expect.poll(() => names(seen), { timeout: 10_000 }).toContain('pageview')
    await page.evaluate(() => window.atspark.consent.set({ analytics: false }, 'banner'))
    await expect.poll(() => seen.log.filter((r) => r.path === '/v1/consent').length, { timeout: 10_000 }).toBe(1)
    const refusedAt = Date.now()

    await visit(page, `${origins.optOut}/refuser-r2?rev=2`)
    const state = await page.evaluate(() => {
      window.atspark.identify('refuser-1')
      window.atspark.track('refuser_after_revision')
      return window.atspark.flush().then(() => window.atspark.consent.get())
    })
    // A second page under revision 2, and a way out, so every path that could send gets its chance.
    await visit(page, `${origins.optOut}/refuser-r2-again?rev=2`)
    await page.evaluate(() => window.atspark.flush())
    await page.goto('about:blank')
    await settle()
    expect(state).toMatchObject({ analytics: false, decided: true })
    expect(batches(seen, refusedAt)).toEqual([])
    // Not one request after the refusal's receipt: no batch, no beacon, no new receipt (a retry of that same
    // receipt, when its first answer was slow on a loaded machine, is the only request allowed).
    const refusal = (seen.log.find((r) => r.path === '/v1/consent')!.body as WireConsentReceipt).id
    const after = seen.log.filter((r) => r.at >= refusedAt)
    expect(after.filter((r) => r.path !== '/v1/consent' || (r.body as WireConsentReceipt).id !== refusal)).toEqual([])
    await visit(page, `${origins.optOut}/refuser-storage?rev=2`)
    const storage = await page.evaluate(() => [...Object.keys(localStorage), ...Object.keys(sessionStorage)])
    expect(storage).toEqual([])
    expect((await context.cookies()).map((c) => c.name)).toEqual(['atspark_consent'])
    await context.close()
  })

  it('the banner asks a visitor who granted again at a new revision, never one who refused (opt-in and opt-out)', async () => {
    for (const origin of [origins.optIn, origins.optOut]) {
      for (const [button, askedAgain] of [
        ['Accept all', true],
        ['Reject all', false],
      ] as const) {
        const { context } = await profile()
        const page = await context.newPage()
        const banner = page.getByRole('dialog')
        await visit(page, `${origin}/banner-r1?rev=1&ui`)
        await expect.poll(() => banner.isVisible(), { timeout: 10_000 }).toBe(true)
        await page.getByRole('button', { name: button }).click()
        await expect.poll(() => banner.isVisible()).toBe(false)
        await visit(page, `${origin}/banner-r1-again?rev=1&ui`)
        await settle(500)
        expect(await banner.isVisible(), `${origin} ${button}, same revision`).toBe(false)
        await visit(page, `${origin}/banner-r2?rev=2&ui`)
        if (askedAgain) await expect.poll(() => banner.isVisible(), { timeout: 10_000 }).toBe(true)
        else await settle(500)
        expect(await banner.isVisible(), `${origin} ${button}, new revision`).toBe(askedAgain)
        expect(await page.evaluate(() => window.atspark.consent.get()), `${origin} ${button}`).toMatchObject({ decided: !askedAgain })
        await context.close()
      }
    }
  })

  it('the consent cookie of a refusal is renewed on a later visit: same choice and receipt, a fresh expiry of 390 days', async () => {
    const { context } = await profile()
    const page = await context.newPage()
    await visit(page, `${origins.optOut}/renew?rev=1`)
    await page.evaluate(() => window.atspark.consent.set({ analytics: false }))
    const given = (await consentCookie(context))!
    const fields = given.value.split('|')
    // The refusal as a visitor made it 380 days ago would hold it now: 10 days left, on the cookie and in its value.
    const tenDays = Date.now() + 10 * 86_400_000
    fields[5] = String(tenDays)
    await context.addCookies([{ ...given, value: fields.join('|'), expires: Math.floor(tenDays / 1000) }])
    const before = (await consentCookie(context))!
    expect(before.expires).toBeLessThan(Date.now() / 1000 + 11 * 86_400)

    await visit(page, `${origins.optOut}/renew-later?rev=2`)
    const after = (await consentCookie(context))!
    const now = Date.now()
    const renewed = after.value.split('|')
    expect(renewed.filter((_, i) => i !== 5)).toEqual(fields.filter((_, i) => i !== 5))
    expect(Number(renewed[5])).toBeGreaterThan(now + (MAX_AGE_S - 120) * 1000)
    expect(Number(renewed[5])).toBeLessThanOrEqual(now + MAX_AGE_S * 1000)
    expect(after.expires).toBeGreaterThan(now / 1000 + MAX_AGE_S - 120)
    expect(after.expires).toBeLessThanOrEqual(now / 1000 + MAX_AGE_S + 1)
    expect(await page.evaluate(() => window.atspark.consent.get())).toMatchObject({ analytics: false, decided: true })
    await context.close()
  })
})

describe('control characters never cost a browser its events (built SDK, Chromium)', () => {
  it("identify('user-123\\n') then track: every batch is accepted, on this page and the next", async () => {
    const { context, seen } = await profile()
    const page = await context.newPage()
    await visit(page, `${origins.optOut}/uid-newline`)
    await page.evaluate(() => {
      window.atspark.identify('user-123\n')
      window.atspark.track('uid_newline', { 'bad\nkey': 1, note: 'a\u0000b' })
      window.atspark.track('name\twith\ttabs')
      return window.atspark.flush()
    })
    await visit(page, `${origins.optOut}/uid-newline-next`)
    await page.evaluate(() => {
      window.atspark.track('uid_newline_next')
      return window.atspark.flush()
    })
    await expect.poll(() => names(seen), { timeout: 10_000 }).toEqual(expect.arrayContaining(['uid_newline', 'namewithtabs', 'uid_newline_next']))
    await expect.poll(() => batches(seen).every((r) => r.status !== undefined), { timeout: 10_000 }).toBe(true)
    expect(batches(seen).map((r) => r.status)).toEqual(batches(seen).map(() => 202))
    expect(await page.evaluate(() => localStorage.getItem('atspark_uid'))).toBe('user-123')

    // The same account identified cleanly, for the warehouse to compare pseudonyms.
    const clean = await profile()
    const other = await clean.context.newPage()
    await visit(other, `${origins.optOut}/uid-clean`)
    await other.evaluate(() => {
      window.atspark.identify('user-123')
      window.atspark.track('uid_clean')
      return window.atspark.flush()
    })
    await expect.poll(() => names(clean.seen), { timeout: 10_000 }).toContain('uid_clean')
    await context.close()
    await clean.context.close()
  })

  it('a uid and an anon id stored by an older SDK with control characters heal, and the events land', async () => {
    const { context, seen } = await profile()
    const page = await context.newPage()
    await visit(page, `${origins.optOut}/stored-first`)
    // Its pageview leaves now, so nothing is queued for a beacon when the page goes.
    await page.evaluate(() => window.atspark.flush())
    await expect.poll(() => names(seen), { timeout: 10_000 }).toContain('pageview')
    await page.evaluate(() => {
      localStorage.setItem('atspark_uid', 'user-456\n')
      localStorage.setItem('atspark_anon', 'anon\r\n')
    })
    const healedFrom = Date.now()
    await visit(page, `${origins.optOut}/stored-healed`)
    await page.evaluate(() => {
      window.atspark.track('stored_uid_healed')
      return window.atspark.flush()
    })
    await expect.poll(() => names(seen), { timeout: 10_000 }).toContain('stored_uid_healed')
    await expect.poll(() => batches(seen, healedFrom).every((r) => r.status !== undefined), { timeout: 10_000 }).toBe(true)
    expect(batches(seen, healedFrom).map((r) => r.status)).toEqual(batches(seen, healedFrom).map(() => 202))
    const stored = await page.evaluate(() => [localStorage.getItem('atspark_uid'), localStorage.getItem('atspark_anon')])
    expect(stored[0]).toBe('user-456')
    expect(stored[1]).toMatch(/^[\w.:-]{1,64}$/)
    await context.close()
  })
})

describe('what reached the warehouse', () => {
  beforeAll(async () => {
    expect(await pipeline.stop()).toBe(0)
    warehouse = openWarehouse(pipeline.dataDir)
  })

  const count = async (where: string) => {
    const [r] = await rows<{ n: string }>(warehouse!, `SELECT count() AS n FROM atspark.events WHERE ${where}`)
    return Number(r?.n)
  }

  it('nothing from the refuser after the new revision; the pageview from before the refusal', async () => {
    expect(await count("type = 'pageview' AND url_path = '/refuser-r1'")).toBe(1)
    expect(await count("url_path LIKE '/refuser-r2%' OR url_path = '/refuser-storage' OR name = 'refuser_after_revision'")).toBe(0)
  })

  it('every event of the identify and stored-uid pages, under the pseudonym of the cleaned id', async () => {
    const pids = await rows<{ name: string; user_pid: string }>(
      warehouse!,
      "SELECT name, user_pid FROM atspark.events WHERE name IN ('uid_newline', 'namewithtabs', 'uid_newline_next', 'uid_clean') ORDER BY name",
    )
    expect(pids.map((r) => r.name)).toEqual(['namewithtabs', 'uid_clean', 'uid_newline', 'uid_newline_next'])
    expect(new Set(pids.map((r) => r.user_pid)).size).toBe(1)
    expect(pids[0]!.user_pid).not.toBe('')
    const [props] = await rows<{ props: Record<string, string> }>(warehouse!, "SELECT props FROM atspark.events WHERE name = 'uid_newline'")
    expect(props!.props).toEqual({ note: 'ab' })
    expect(await count("name = 'stored_uid_healed' AND user_pid != ''")).toBe(1)
    expect(await count("type = 'pageview' AND url_path = '/stored-healed' AND user_pid != ''")).toBe(1)
  })
})
