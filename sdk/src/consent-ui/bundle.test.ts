/// <reference types="node" />
// Checks the built atspark-consent.min.js (turbo runs `build` before `test`); it builds nothing itself.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib'
import { CONSENT_PATH, WireConsentReceipt } from '@atspark/schemas'
import { Window } from 'happy-dom'
import { afterEach, describe, expect, test, vi } from 'vitest'
import { fakeConsent } from './test-support.js'

/** Bytes on the wire for the optional consent bundle; over budget fails, it is never loosened silently. */
const BUDGET = { gzip: 3072, brotli: 2700 } as const
const FILE = 'atspark-consent.min.js'

function dist(file: string): string {
  // A path string, not a URL: under happy-dom the global URL is not Node's.
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', file)
  if (!existsSync(path)) throw new Error(`sdk/dist/${file} is missing: run \`npm run build -w @atspark/sdk\` before the tests (turbo does).`)
  return readFileSync(path, 'utf8')
}
const bundle = () => dist(FILE)

describe(`${FILE} size`, () => {
  test(`gzip -9 ≤ ${BUDGET.gzip} B and brotli ≤ ${BUDGET.brotli} B`, () => {
    const code = Buffer.from(bundle())
    const gzip = gzipSync(code, { level: 9 }).length
    const brotli = brotliCompressSync(code, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).length
    console.log(`${FILE}: ${code.length} B raw, ${gzip} B gzip (budget ${BUDGET.gzip}), ${brotli} B brotli (budget ${BUDGET.brotli})`)
    expect(gzip, `${FILE} is ${gzip} B gzip, over its ${BUDGET.gzip} B budget`).toBeLessThanOrEqual(BUDGET.gzip)
    expect(brotli, `${FILE} is ${brotli} B brotli, over its ${BUDGET.brotli} B budget`).toBeLessThanOrEqual(BUDGET.brotli)
  })
})

describe(`${FILE} contents`, () => {
  test('no eval, no HTML parsing, no inline styles, no module syntax, no URL to request', () => {
    const code = bundle()
    expect(code).not.toMatch(/\beval\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write|createElement\("style"\)|\.style\b|setAttribute\("style"/)
    expect(code).not.toMatch(/^\s*import\b|\bimport\(|\bfrom\s*['"]|\brequire\(/m)
    expect(code).not.toMatch(/https?:\/\/|fetch\(|sendBeacon|XMLHttpRequest/)
  })
})

describe(`${FILE} in a page`, () => {
  const windows: Window[] = []
  afterEach(async () => {
    for (const win of windows.splice(0)) await win.happyDOM.close()
  })

  function newPage() {
    const win = new Window({
      url: 'https://shop.example/',
      settings: { enableJavaScriptEvaluation: true, suppressInsecureJavaScriptEnvironmentWarning: true },
    })
    windows.push(win)
    return win
  }

  function addScript(win: Window, code: string, attributes: Record<string, string> = {}) {
    const script = win.document.createElement('script')
    for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value)
    script.textContent = code
    win.document.head.appendChild(script)
  }

  test('beside the real atspark.min.js: Accept all grants through atspark.consent, and the receipt says banner', async () => {
    const win = newPage()
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new win.Response(null, { status: 202 }))
    Object.assign(win, { fetch })
    addScript(win, dist('atspark.min.js'), { 'data-site': 'key-1', 'data-endpoint': 'https://in.example', 'data-mode': 'opt-in', 'data-autocapture': 'false' })
    addScript(win, bundle())
    const atspark = (win as unknown as { atspark: { consent: { get(): Record<string, unknown> } } }).atspark
    expect(atspark.consent.get()).toMatchObject({ decided: false, analytics: false })
    const accept = [...win.document.querySelectorAll('button')].find((node) => node.textContent === 'Accept all')
    expect(accept, 'the banner shows for an undecided visitor').toBeDefined()
    accept!.click()
    expect(atspark.consent.get()).toMatchObject({ decided: true, analytics: true, preferences: true })
    expect(win.document.querySelector('[role="dialog"]')).toBeNull()
    await new Promise((resolve) => setTimeout(resolve, 0))
    const receipts = fetch.mock.calls.filter(([url]) => String(url).endsWith(CONSENT_PATH))
    expect(receipts).toHaveLength(1)
    expect(WireConsentReceipt.parse(JSON.parse(String(receipts[0]![1].body)))).toMatchObject({ a: true, p: true, src: 'banner' })
  })

  test('loaded before the core: waits, then shows the banner, styled by an adopted sheet, and reports choices', async () => {
    const win = newPage()
    const doc = win.document
    addScript(win, bundle())
    const page = win as unknown as { atspark?: unknown; atsparkConsent?: Record<string, unknown> }
    expect(Object.keys(page.atsparkConsent ?? {}).sort()).toEqual(['close', 'open'])
    expect(doc.querySelector('[role="dialog"]')).toBeNull()

    const fake = fakeConsent()
    page.atspark = { consent: fake.api }
    await new Promise((resolve) => setTimeout(resolve, 300))

    const dialog = doc.querySelector('[role="dialog"]')
    expect(dialog?.textContent).toContain('Accept all')
    expect(doc.adoptedStyleSheets).toHaveLength(1)
    expect(doc.querySelectorAll('style, [style]')).toHaveLength(0)
    const reject = [...doc.querySelectorAll('button')].find((node) => node.textContent === 'Reject all')!
    reject.click()
    expect(fake.setCalls).toEqual([[{ analytics: false, preferences: false }, 'banner']])
    expect(doc.querySelector('[role="dialog"]')).toBeNull()
  })
})
