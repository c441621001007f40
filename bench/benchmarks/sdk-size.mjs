// Size of atSpark's browser bundles beside the peers' browser scripts, all measured the same way: minified bytes,
// gzip -9 and brotli q11. Peers that ship a minified browser script are measured as shipped; plausible-tracker ships
// only a module and umami only its tracker source, so those are bundled and minified here with rollup + terser.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import commonjs from '@rollup/plugin-commonjs'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { rollup } from 'rollup'
import { UMAMI, umamiTracker } from '../lib/peers.mjs'
import { summaryRow, table } from '../lib/report.mjs'
import { int, pct } from '../lib/stats.mjs'

/** The budget for the core bundle with every issue-3 feature, gzip bytes. */
export const CORE_GZIP_BUDGET = 2_048

const require = createRequire(import.meta.url)
// Some peers do not export package.json, so find their folders through the hoisted node_modules.
const pkgDir = (name) => fileURLToPath(new URL(`../../node_modules/${name}/`, import.meta.url))
const version = (name) => JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8')).version
const shipped = (name, file) => readFileSync(join(pkgDir(name), file))

async function bundled(entry) {
  const build = await rollup({ input: entry, plugins: [nodeResolve({ browser: true }), commonjs()], onwarn: () => {} })
  const { output } = await build.generate({ format: 'iife', name: 'peer', plugins: [terser({ format: { comments: false } })] })
  await build.close()
  return Buffer.from(output[0].code)
}

const gz = (b) => gzipSync(b, { level: 9 }).length
const br = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length

/** `consent: true` marks scripts that themselves gate tracking on a visitor's choice; the note says what they do. */
async function bundles() {
  const umami = await umamiTracker().then(
    (code) => ({ code }),
    (err) => ({ error: err.message.split('\n')[0] }),
  )
  return [
    { name: 'atspark core', what: 'sdk/dist/atspark.min.js', consent: true, note: 'categories, opt-in/out, DNT/GPC, receipts, withdrawal', code: shipped('@atspark/sdk', 'dist/atspark.min.js'), ours: true },
    { name: 'atspark consent UI', what: 'sdk/dist/atspark-consent.min.js', consent: true, note: 'banner + preference center + GCM v2', code: shipped('@atspark/sdk', 'dist/atspark-consent.min.js'), ours: true },
    { name: `posthog-js ${version('posthog-js')}`, what: 'dist/array.js (as shipped)', consent: true, note: 'opt-in/opt-out capturing, respect_dnt, cookieless mode', code: shipped('posthog-js', 'dist/array.js') },
    { name: `@snowplow/browser-tracker ${version('@snowplow/browser-tracker')}`, what: 'dist/index.umd.min.js (as shipped)', consent: false, note: 'anonymous-tracking switch only; consent/GDPR context are separate plugins', code: shipped('@snowplow/browser-tracker', 'dist/index.umd.min.js') },
    { name: `@segment/analytics-next ${version('@segment/analytics-next')}`, what: 'dist/umd/standalone.js (first script as shipped; lazy-loads more chunks)', consent: false, note: 'none in the core; consent via separate wrapper packages', code: shipped('@segment/analytics-next', 'dist/umd/standalone.js') },
    { name: `umami ${UMAMI.version}`, what: 'src/tracker/index.js built as umami does (rollup + terser)', consent: false, note: 'none (a localStorage switch for the site owner)', ...umami },
    { name: `@plausible-analytics/tracker ${version('@plausible-analytics/tracker')}`, what: 'plausible.js (as shipped)', consent: false, note: 'none', code: shipped('@plausible-analytics/tracker', 'plausible.js') },
    { name: `plausible-tracker ${version('plausible-tracker')}`, what: 'module bundled + terser here', consent: false, note: 'none', code: await bundled(require.resolve('plausible-tracker')) },
    { name: `vanilla-cookieconsent ${version('vanilla-cookieconsent')}`, what: 'dist/cookieconsent.umd.js (as shipped)', consent: true, note: 'consent manager UI only, no tracking', code: shipped('vanilla-cookieconsent', 'dist/cookieconsent.umd.js') },
  ]
}

export default {
  name: 'sdk-size',
  about: "SDK bundle bytes (min, gzip -9, brotli 11) beside the peers' browser scripts",
  async run() {
    const rows = await bundles()
    for (const r of rows) if (r.code) Object.assign(r, { min: r.code.length, gzip: gz(r.code), brotli: br(r.code) })
    const core = rows[0]
    const consentPeers = rows.filter((r) => !r.ours && r.consent && r.gzip)
    const smallest = consentPeers.reduce((a, b) => (b.gzip < a.gzip ? b : a))
    const detail = table(
      ['bundle', 'measured', 'min bytes', 'gzip -9', 'brotli 11', 'gzip vs atspark core', 'consent handling'],
      rows.map((r) =>
        r.code ? [r.name, r.what, int(r.min), int(r.gzip), int(r.brotli), `${(r.gzip / core.gzip).toFixed(2)}×`, `${r.consent ? 'yes' : 'no'}: ${r.note}`] : [r.name, r.what, '—', '—', '—', '—', `unavailable: ${r.error}`],
      ),
      ['l', 'l', 'r', 'r', 'r', 'r', 'l'],
    )
    const summary = [
      summaryRow({
        benchmark: 'SDK size',
        measure: 'core, gzip -9 (brotli 11)',
        measured: `${int(core.gzip)} B (${int(core.brotli)} B)`,
        ceiling: `budget ${int(CORE_GZIP_BUDGET)} B`,
        ratio: pct(core.gzip / CORE_GZIP_BUDGET),
        target: '≤ 2,048 B gzip',
        met: core.gzip <= CORE_GZIP_BUDGET,
        gap: `${int(core.gzip - CORE_GZIP_BUDGET)} B over budget with every issue-3 feature: public names, DOM APIs and wire keys alone are ≈ 880 B, and a golfed single-file rewrite floored near 2,680 B (issue 3)`,
      }),
      summaryRow({
        benchmark: 'SDK size',
        measure: 'core vs smallest peer with consent handling (gzip)',
        measured: `${int(core.gzip)} B`,
        ceiling: `${int(smallest.gzip)} B (${smallest.name})`,
        ratio: pct(core.gzip / smallest.gzip),
        target: 'smaller than every peer with consent handling',
        met: core.gzip < smallest.gzip,
        gap: `larger than ${smallest.name}`,
      }),
    ]
    return { summary, markdown: `${detail}\n\nPeers with consent handling: ${consentPeers.map((r) => r.name).join(', ')}.` }
  },
}
