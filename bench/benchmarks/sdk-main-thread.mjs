// The SDK's cost on the page's main thread, in Debian's Chromium: a page with the built core bundle against the same
// page without it. track() is timed in the page in loops (cross-origin isolated, so performance.now() is fine-grained);
// page loads compare script time (CDP Performance metrics) and long tasks (PerformanceObserver) with and without.
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { chromium } from 'playwright-core'
import { BENCH_WRITE_KEY } from '../lib/site.mjs'
import { summaryRow, table } from '../lib/report.mjs'
import { fixed, int, median, runs } from '../lib/stats.mjs'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
// As test/src/support/chromium.ts: root, no GPU, no calls home on a closed network.
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']
const SDK = new URL('../../sdk/dist/atspark.min.js', import.meta.url)
/** The unminified ES module build, for readable function names in a profile. */
const SDK_MODULE = new URL('../../sdk/dist/index.js', import.meta.url)
const LONG_TASK_MS = 50

/** A product-like page: nav, buttons and links for autocapture to listen to, and a few paragraphs. */
function page(origin, withSdk) {
  const links = Array.from({ length: 20 }, (_, i) => `<a href="/page/${i}">Section ${i}</a>`).join(' ')
  const buttons = Array.from({ length: 10 }, (_, i) => `<button type="button" data-atspark="cta_${i}">Action ${i}</button>`).join('')
  const text = Array.from({ length: 30 }, (_, i) => `<p>Paragraph ${i}: ${'lorem ipsum dolor sit amet '.repeat(12)}</p>`).join('')
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench page</title>
<script>
window.__longtasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration }) }).observe({ type: 'longtask', buffered: true });
performance.mark('sdk:before');
</script>
${withSdk ? `<script src="/sdk.js" data-site="${BENCH_WRITE_KEY}" data-endpoint="${origin}" data-mode="opt-out" data-policy-revision="1"></script>` : '<script>window.atspark = { track() {}, flush() {} };</script>'}
<script>performance.mark('sdk:after');</script>
</head><body><header><nav>${links}</nav></header><main><h1>Dashboard</h1>${buttons}${text}</main></body></html>`
}

/** The same page with the SDK's unminified module build, initialised as the script tag would. */
function modulePage(origin) {
  return page(origin, false).replace(
    '<script>window.atspark = { track() {}, flush() {} };</script>',
    `<script type="module">import * as sdk from '/index.js'; sdk.init({ site: '${BENCH_WRITE_KEY}', endpoint: '${origin}', mode: 'opt-out', policyRevision: '1' }); window.atspark = sdk;</script>`,
  )
}

/** Serves the pages, the bundles and a sink answering the SDK's posts like ingest; cross-origin isolated. */
export function startSite() {
  const sdk = readFileSync(SDK)
  const sdkModule = readFileSync(SDK_MODULE)
  let posts = 0
  /** Batches and the events in them that reached the sink (a refused keepalive fetch never arrives). */
  const received = { batches: 0, events: 0 }
  const server = createServer((req, res) => {
    const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store' }
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/sdk.js') return res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(sdk)
    if (url.pathname === '/index.js') return res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(sdkModule)
    if (url.pathname === '/module-sdk') return res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(modulePage(`http://127.0.0.1:${server.address().port}`))
    if (url.pathname === '/v1/batch' || url.pathname === '/v1/consent') {
      posts++
      const chunks = []
      req.on('data', (chunk) => chunks.push(chunk))
      return req.on('end', () => {
        // The primitives table's fetch probe posts to /v1/batch?probe (not JSON).
        if (url.pathname === '/v1/batch' && !url.search) {
          received.batches++
          received.events += JSON.parse(Buffer.concat(chunks).toString()).e.length
        }
        res.writeHead(202, { ...headers, 'content-type': 'application/json' }).end('{"accepted":1,"dropped":0,"rejected":[]}')
      })
    }
    if (url.pathname === '/with-sdk' || url.pathname === '/no-sdk') {
      return res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(page(`http://127.0.0.1:${server.address().port}`, url.pathname === '/with-sdk'))
    }
    res.writeHead(204, headers).end()
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ origin: `http://127.0.0.1:${server.address().port}`, posts: () => posts, received, close: () => new Promise((r) => server.close(r)) })))
}

/** One fresh-context page load: script/task time from CDP, the SDK tag's execution window and long tasks. */
async function load(browser, url) {
  const context = await browser.newContext()
  const p = await context.newPage()
  const cdp = await context.newCDPSession(p)
  await cdp.send('Performance.enable')
  await p.goto(url, { waitUntil: 'load' })
  // Autocapture and the first pageview run around load; give them a moment to land inside the measurement.
  await p.waitForTimeout(500)
  const { metrics } = await cdp.send('Performance.getMetrics')
  const metric = (name) => (metrics.find((m) => m.name === name)?.value ?? Number.NaN) * 1000
  const inPage = await p.evaluate(() => {
    const [before] = performance.getEntriesByName('sdk:before')
    const [after] = performance.getEntriesByName('sdk:after')
    const res = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/sdk.js'))
    return { before: before.startTime, after: after.startTime, responseEnd: res?.responseEnd, longtasks: window.__longtasks, isolated: crossOriginIsolated }
  })
  await context.close()
  const overlapsSdk = inPage.longtasks.filter((t) => t.start < inPage.after && t.start + t.duration > inPage.before)
  return {
    scriptMs: metric('ScriptDuration'),
    taskMs: metric('TaskDuration'),
    // From the end of the bundle's download to the mark after its tag: parse, compile, run, init.
    sdkExecMs: inPage.responseEnd === undefined ? 0 : inPage.after - Math.max(inPage.before, inPage.responseEnd),
    longtasks: inPage.longtasks.length,
    sdkLongtasks: overlapsSdk.length,
    isolated: inPage.isolated,
  }
}

/**
 * What the SDK's per-event primitives cost in this browser, on a fresh no-SDK page: the first Intl.DateTimeFormat()
 * (ICU start-up, paid once per page), then per call. Explains where track() and the load-time script go.
 */
async function primitives(browser, url) {
  const context = await browser.newContext()
  const p = await context.newPage()
  await p.goto(url, { waitUntil: 'load' })
  const out = await p.evaluate(async () => {
    const t0 = performance.now()
    Intl.DateTimeFormat().resolvedOptions().timeZone
    const firstIntl = performance.now() - t0
    const per = (f, n = 500) => {
      const s = performance.now()
      for (let i = 0; i < n; i++) f()
      return ((performance.now() - s) * 1000) / n
    }
    // As sdk/src/ids.ts did before it made one random call per uuid: one getRandomValues call per hex digit.
    const sdkUuid = () => '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (+c / 4)))).toString(16))
    const out = {
      'first Intl.DateTimeFormat() on the page (ms)': firstIntl,
      'Intl.DateTimeFormat().resolvedOptions().timeZone (µs/call)': per(() => Intl.DateTimeFormat().resolvedOptions().timeZone),
      'uuid from 32 getRandomValues calls, as the SDK did before (µs/call)': per(sdkUuid),
      'crypto.randomUUID() (µs/call)': per(() => crypto.randomUUID()),
      'crypto.getRandomValues(new Uint8Array(16)) once (µs/call)': per(() => crypto.getRandomValues(new Uint8Array(16))),
      'document.cookie read (µs/call)': per(() => document.cookie),
      'localStorage.getItem (µs/call)': per(() => localStorage.getItem('atspark_anon')),
      'JSON.stringify of a 20-event batch (µs/call)': per(() => JSON.stringify(Array.from({ length: 20 }, (_, i) => ({ id: `${i}`, t: 'custom', ts: Date.now(), u: location.href, p: { i } })))),
    }
    // The call itself, as the SDK makes it (the answer's body cancelled, so the keepalive budget is freed): one at a time.
    const times = []
    for (let i = 0; i < 15; i++) {
      const t = performance.now()
      const sent = fetch('/v1/batch?probe', { method: 'POST', body: 'x'.repeat(30_000), keepalive: true, credentials: 'omit' })
      times.push((performance.now() - t) * 1000)
      await sent.then((res) => res.body?.cancel())
    }
    out['fetch() of a 30 kB keepalive POST, the call alone (µs/call)'] = times.sort((a, b) => a - b)[7]
    return out
  })
  await context.close()
  return out
}

/**
 * track() per call, µs: `rounds` loops of `calls` calls each (yielding 5 ms between loops), after a warm-up loop.
 * `sync`: the loop alone. `flushed`: the loop and then flush(), so a batch the SDK would send from a timer after
 * the loop is sent, and counted, inside the measurement. `task`: all main-thread task time over the rounds (CDP
 * TaskDuration: the loops, fetch answers, timers, GC) per call.
 */
async function timeTrack(browser, url, rounds, calls) {
  const context = await browser.newContext()
  const p = await context.newPage()
  await p.goto(url, { waitUntil: 'load' })
  const cdp = await context.newCDPSession(p)
  await cdp.send('Performance.enable')
  const taskSeconds = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value
  await p.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)))
  const before = await taskSeconds()
  const perCall = await p.evaluate(
    async ({ rounds, calls }) => {
      const loop = () => {
        const t = performance.now()
        for (let k = 0; k < calls; k++) window.atspark.track('bench_event', { i: k, plan: 'pro', ok: true })
        const t1 = performance.now()
        void window.atspark.flush()
        return [((t1 - t) * 1000) / calls, ((performance.now() - t) * 1000) / calls]
      }
      loop()
      const out = { sync: [], flushed: [] }
      for (let r = 0; r < rounds; r++) {
        const [sync, flushed] = loop()
        out.sync.push(sync)
        out.flushed.push(flushed)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      // The last answers and timers land inside the task-time window.
      await new Promise((resolve) => setTimeout(resolve, 200))
      return out
    },
    { rounds, calls },
  )
  const task = (((await taskSeconds()) - before) * 1e6) / ((rounds + 1) * calls)
  await context.close()
  return { sync: median(perCall.sync), flushed: median(perCall.flushed), task }
}

export default {
  name: 'sdk-main-thread',
  about: 'Chromium: track() µs per call, and script time / long tasks during page load, with vs without the SDK',
  async run(ctx) {
    if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium is missing at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`)
    if (!existsSync(SDK)) throw new Error('sdk/dist/atspark.min.js is missing: run npm run build first')
    const site = await startSite()
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true })
    try {
      const loads = { with: [], without: [] }
      const n = ctx.pick(12, 5)
      for (let i = 0; i < n; i++) {
        for (const side of i % 2 ? ['without', 'with'] : ['with', 'without']) loads[side].push(await load(browser, `${site.origin}/${side === 'with' ? 'with-sdk' : 'no-sdk'}`))
      }
      const track = { with: [], without: [] }
      const pages = ctx.pick(5, 3)
      const [rounds, calls] = [ctx.pick(40, 20), 200]
      const sent = { ...site.received }
      for (let i = 0; i < pages; i++) {
        track.with.push(await timeTrack(browser, `${site.origin}/with-sdk`, rounds, calls))
        track.without.push(await timeTrack(browser, `${site.origin}/no-sdk`, rounds, calls))
      }
      // What the track() pages delivered (their pageviews included): every tracked event should reach the sink.
      const delivered = { batches: site.received.batches - sent.batches, events: site.received.events - sent.events }
      const tracked = pages * (rounds + 1) * calls
      const prims = []
      for (let i = 0; i < ctx.pick(3, 2); i++) prims.push(await primitives(browser, `${site.origin}/no-sdk`))
      const version = browser.version()
      const prim = (k) => median(prims.map((p) => p[k]))
      const of = (side, key) => track[side].map((t) => t[key])
      // The headline counts what the SDK would otherwise send from a timer after the loop (flush() inside the timing).
      const trackUs = median(of('with', 'flushed'))
      const baselineUs = median(of('without', 'flushed'))
      // All main-thread task time per call, SDK page minus stub page: the fetch answers and timers too.
      const taskUs = median(of('with', 'task')) - median(of('without', 'task'))
      const scriptDelta = median(loads.with.map((l) => l.scriptMs)) - median(loads.without.map((l) => l.scriptMs))
      const taskDelta = median(loads.with.map((l) => l.taskMs)) - median(loads.without.map((l) => l.taskMs))
      const sdkLongtasks = Math.max(...loads.with.map((l) => l.sdkLongtasks))
      const extraLongtasks = median(loads.with.map((l) => l.longtasks)) - median(loads.without.map((l) => l.longtasks))
      const row = (label, side, key, digits = 1) => [label, fixed(median(loads[side].map((l) => l[key])), digits), runs(loads[side].map((l) => l[key]), (v) => fixed(v, digits))]
      return {
        summary: [
          summaryRow({
            benchmark: 'SDK main thread',
            measure: 'track() µs per call (median)',
            measured: `${fixed(trackUs, 2)} µs`,
            ceiling: `${fixed(baselineUs, 3)} µs (no-SDK page, stub)`,
            ratio: '—',
            target: '≤ 20 µs',
            met: trackUs <= 20,
            gap: `${fixed(trackUs - 20, 1)} µs over; most of it is Chromium's fetch() call (~${fixed(prim('fetch() of a 30 kB keepalive POST, the call alone (µs/call)'), 0)} µs here) once per 100 events, the wire's batch limit (see the primitives table and profile-notes.md)`,
          }),
          summaryRow({
            benchmark: 'SDK main thread',
            measure: 'long tasks during the SDK script at load (max over loads)',
            measured: String(sdkLongtasks),
            ceiling: `script +${fixed(scriptDelta, 1)} ms vs no-SDK page`,
            ratio: '—',
            target: '0 long tasks',
            met: sdkLongtasks === 0 && extraLongtasks <= 0,
            gap: `${sdkLongtasks} long task(s) overlap the SDK tag; +${extraLongtasks} per load vs no SDK; the page's first Intl.DateTimeFormat() alone took ${fixed(prim('first Intl.DateTimeFormat() on the page (ms)'), 1)} ms`,
          }),
        ],
        markdown: [
          table(
            ['page load (fresh context each)', 'median', 'loads'],
            [
              row('CDP ScriptDuration, with SDK (ms)', 'with', 'scriptMs'),
              row('CDP ScriptDuration, no SDK (ms)', 'without', 'scriptMs'),
              row('CDP TaskDuration, with SDK (ms)', 'with', 'taskMs'),
              row('CDP TaskDuration, no SDK (ms)', 'without', 'taskMs'),
              row('SDK tag: end of download → next tag (ms)', 'with', 'sdkExecMs', 2),
              row(`long tasks (≥ ${LONG_TASK_MS} ms) per load, with SDK`, 'with', 'longtasks', 0),
              row(`long tasks (≥ ${LONG_TASK_MS} ms) per load, no SDK`, 'without', 'longtasks', 0),
              row('long tasks overlapping the SDK tag', 'with', 'sdkLongtasks', 0),
            ],
            ['l', 'r', 'r'],
          ),
          '',
          table(
            ['track()', 'µs per call (median of pages)', 'pages'],
            [
              ['with SDK (opt-out site, analytics granted, autocapture on): loop + flush() of the rest (headline)', fixed(trackUs, 2), runs(of('with', 'flushed'), (v) => fixed(v, 2))],
              ['with SDK: the loop alone', fixed(median(of('with', 'sync')), 2), runs(of('with', 'sync'), (v) => fixed(v, 2))],
              ['no-SDK page, `atspark.track` a no-op stub (loop cost)', fixed(baselineUs, 3), runs(of('without', 'flushed'), (v) => fixed(v, 3))],
              ['all main-thread task time per call, incl. fetch answers, timers, GC (CDP TaskDuration), with SDK', fixed(median(of('with', 'task')), 2), runs(of('with', 'task'), (v) => fixed(v, 2))],
              ['the same, no-SDK page', fixed(median(of('without', 'task')), 2), runs(of('without', 'task'), (v) => fixed(v, 2))],
              ['task time the SDK adds per call (with − without)', fixed(taskUs, 2), '—'],
            ],
            ['l', 'r', 'r'],
          ),
          '',
          table(
            ['primitive the SDK uses, on a no-SDK page', 'median', 'pages'],
            Object.keys(prims[0]).map((k) => [k, fixed(median(prims.map((p) => p[k])), 2), runs(prims.map((p) => p[k]), (v) => fixed(v, 2))]),
            ['l', 'r', 'r'],
          ),
          '',
          `Chromium ${version} headless (${CHROMIUM_PATH}), pages served from 127.0.0.1 with COOP/COEP (cross-origin isolated: ${loads.with[0]?.isolated}). ${n} loads per page, alternating; script time delta with − without: ${fixed(scriptDelta, 1)} ms script, ${fixed(taskDelta, 1)} ms all tasks. track(): ${pages} pages × ${rounds + 1} loops of ${calls} calls (warm-up included; 5 ms between loops); as in production, a burst goes out in batches of 100, the wire's limit, from the 100th call (and from a timer at the end of the task once 20 wait); the track() pages delivered ${int(delivered.events)} events in ${int(delivered.batches)} batches to the sink (${int(tracked)} tracked, plus their pageviews); the sink answered ${int(site.posts())} posts in all.`,
        ].join('\n'),
      }
    } finally {
      await browser.close()
      await site.close()
    }
  },
}
