// Size of atSpark's browser bundles beside the peers' browser scripts, all measured the same way:
// minified bytes, gzip -9 and brotli q11. Peers that ship a minified browser script are measured as
// shipped; plausible-tracker ships only a module, so it is bundled and minified here with rollup + terser.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import commonjs from '@rollup/plugin-commonjs'
import { nodeResolve } from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { rollup } from 'rollup'

const require = createRequire(import.meta.url)
// Some peers do not export package.json, so find their folders through the hoisted node_modules.
const pkgDir = (name) => fileURLToPath(new URL(`../node_modules/${name}/`, import.meta.url))
const version = (name) => JSON.parse(readFileSync(join(pkgDir(name), 'package.json'), 'utf8')).version

async function bundled(entry) {
  const build = await rollup({ input: entry, plugins: [nodeResolve({ browser: true }), commonjs()], onwarn: () => {} })
  const { output } = await build.generate({ format: 'iife', name: 'peer', plugins: [terser({ format: { comments: false } })] })
  await build.close()
  return Buffer.from(output[0].code)
}

const shipped = (name, file) => readFileSync(join(pkgDir(name), file))

const rows = [
  { name: 'atspark core', what: 'sdk/dist/atspark.min.js', consent: 'yes: categories, DNT/GPC, receipts', code: shipped('@atspark/sdk', 'dist/atspark.min.js') },
  { name: 'atspark consent UI', what: 'sdk/dist/atspark-consent.min.js', consent: 'banner + preference center + GCM v2', code: shipped('@atspark/sdk', 'dist/atspark-consent.min.js') },
  { name: `posthog-js ${version('posthog-js')}`, what: 'dist/array.js (as shipped)', consent: 'yes: opt-in/out, respect_dnt', code: shipped('posthog-js', 'dist/array.js') },
  { name: `@snowplow/browser-tracker ${version('@snowplow/browser-tracker')}`, what: 'dist/index.umd.min.js (as shipped)', consent: 'partial: consent context events', code: shipped('@snowplow/browser-tracker', 'dist/index.umd.min.js') },
  { name: `@plausible-analytics/tracker ${version('@plausible-analytics/tracker')}`, what: 'plausible.js (as shipped)', consent: 'no', code: shipped('@plausible-analytics/tracker', 'plausible.js') },
  { name: `plausible-tracker ${version('plausible-tracker')}`, what: 'module bundled + terser here', consent: 'no', code: await bundled(require.resolve('plausible-tracker')) },
  { name: `vanilla-cookieconsent ${version('vanilla-cookieconsent')}`, what: 'dist/cookieconsent.umd.js (as shipped)', consent: 'consent UI only, no tracking', code: shipped('vanilla-cookieconsent', 'dist/cookieconsent.umd.js') },
]

const gz = (b) => gzipSync(b, { level: 9 }).length
const br = (b) => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length
const core = gz(rows[0].code)
console.log('bundle | measured | min bytes | gzip -9 | brotli 11 | gzip vs atspark core | consent handling')
console.log('---|---|---:|---:|---:|---:|---')
for (const r of rows) {
  const g = gz(r.code)
  console.log(`${r.name} | ${r.what} | ${r.code.length} | ${g} | ${br(r.code)} | ${(g / core).toFixed(2)}× | ${r.consent}`)
}
