/// <reference types="node" />
// Checks the built artifacts (turbo runs `build` before `test`); it builds nothing itself.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib'
import { BATCH_PATH, WireBatch } from '@atspark/schemas'
import { Window } from 'happy-dom'
import { afterEach, describe, expect, test, vi } from 'vitest'

/** Bytes on the wire for the <script> bundle; over budget fails, it is never loosened silently. */
const BUDGET = { gzip: 2048, brotli: 1800 } as const

const dist = (file: string) => {
  // A path string, not a URL: under happy-dom the global URL is not Node's.
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', file)
  if (!existsSync(path)) throw new Error(`sdk/dist/${file} is missing: run \`npm run build -w @atspark/sdk\` before the tests (turbo does).`)
  return readFileSync(path, 'utf8')
}

describe('atspark.min.js size', () => {
  test(`gzip ≤ ${BUDGET.gzip} B and brotli ≤ ${BUDGET.brotli} B`, () => {
    const code = Buffer.from(dist('atspark.min.js'))
    const gzip = gzipSync(code, { level: 9 }).length
    const brotli = brotliCompressSync(code, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).length
    console.log(`atspark.min.js: ${code.length} B raw, ${gzip} B gzip (budget ${BUDGET.gzip}), ${brotli} B brotli (budget ${BUDGET.brotli})`)
    expect(gzip).toBeLessThanOrEqual(BUDGET.gzip)
    expect(brotli).toBeLessThanOrEqual(BUDGET.brotli)
  })
})

describe('built artifacts', () => {
  test('carry no runtime dependency, no eval and no schema code', () => {
    for (const file of ['atspark.min.js', 'index.js']) {
      const code = dist(file)
      expect(code, file).not.toMatch(/\beval\(|new Function|^\s*import\b|\bimport\(|\bfrom\s*['"]|\brequire\(|zod/m)
    }
    expect(dist('index.d.ts')).toMatch(/export declare function init/)
  })
})

describe('atspark.min.js in a page', () => {
  const windows: Window[] = []
  afterEach(async () => {
    for (const win of windows.splice(0)) await win.happyDOM.close()
  })

  /** Loads the bundle through a <script data-…> tag in a fresh page with a stubbed fetch. */
  function loadPage(attributes: Record<string, string>, navigatorProps: Record<string, unknown> = {}) {
    const win = new Window({
      url: 'https://shop.example/cart?coupon=XYZ#pay',
      settings: { enableJavaScriptEvaluation: true, suppressInsecureJavaScriptEnvironmentWarning: true },
    })
    windows.push(win)
    for (const [name, value] of Object.entries(navigatorProps)) Object.defineProperty(win.navigator, name, { value })
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new win.Response(null, { status: 202 }))
    Object.assign(win, { fetch })
    const script = win.document.createElement('script')
    for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value)
    script.textContent = dist('atspark.min.js')
    win.document.head.appendChild(script)
    const atspark = (win as unknown as { atspark: typeof import('./index.js') }).atspark
    return { win, fetch, atspark }
  }

  test('exposes window.atspark, auto-inits from data-* and posts a valid WireBatch', async () => {
    const { fetch, atspark } = loadPage({ 'data-site': 'key-9', 'data-endpoint': 'https://in.example', 'data-mode': 'opt-out' })
    expect(Object.keys(atspark).sort()).toEqual(['consent', 'flush', 'init', 'page', 'track'])
    atspark.track('checkout', { step: 2 })
    await atspark.flush()
    expect(fetch).toHaveBeenCalledOnce()
    const [url, init] = fetch.mock.calls[0]!
    expect(url).toBe(`https://in.example${BATCH_PATH}`)
    const batch = WireBatch.parse(JSON.parse(String(init.body)))
    expect(batch.k).toBe('key-9')
    expect(batch.e.map((e) => [e.t, e.u])).toEqual([
      ['pageview', 'https://shop.example/cart'],
      ['custom', 'https://shop.example/cart'],
    ])
  })

  test('sends nothing under GPC, whatever the page grants', async () => {
    const { fetch, atspark } = loadPage({ 'data-site': 'k', 'data-endpoint': 'https://in.example', 'data-mode': 'opt-out' }, { globalPrivacyControl: true })
    atspark.consent.set({ analytics: true })
    atspark.track('x')
    await atspark.flush()
    expect(fetch).not.toHaveBeenCalled()
  })

  test('without data-site it waits for atspark.init()', async () => {
    const { fetch, atspark } = loadPage({})
    await atspark.flush()
    expect(fetch).not.toHaveBeenCalled()
    atspark.init({ site: 'late', endpoint: 'https://in.example', mode: 'opt-out' })
    await atspark.flush()
    expect(fetch).toHaveBeenCalledOnce()
  })
})
