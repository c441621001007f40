import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

// Run by processor's build after tsc, from dist/dashboard/: bundles the page's TypeScript and CSS
// (with uPlot) into dist/dashboard/static, which routes.ts serves.

const source = new URL('../../src/dashboard/client/', import.meta.url)
const out = new URL('./static/', import.meta.url)
const require = createRequire(import.meta.url)
const uplotPackage = require.resolve('uplot/package.json')
const uplot = JSON.parse(await readFile(uplotPackage, 'utf8')) as { version: string; license: string }

await rm(out, { recursive: true, force: true })
await mkdir(out, { recursive: true })
const result = await build({
  entryPoints: { app: fileURLToPath(new URL('main.ts', source)) },
  bundle: true,
  format: 'esm',
  minify: true,
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  outdir: fileURLToPath(out),
  metafile: true,
  logLevel: 'warning',
  banner: { js: `/*! atSpark dashboard, bundling uPlot ${uplot.version} (${uplot.license}, © Leon Sorokin): see /dashboard/licenses.txt */` },
})
await build({
  entryPoints: { app: fileURLToPath(new URL('app.css', source)) },
  bundle: true,
  minify: true,
  outdir: fileURLToPath(out),
  logLevel: 'warning',
})
await copyFile(new URL('index.html', source), new URL('index.html', out))
const uplotLicense = await readFile(new URL('LICENSE', pathToFileURL(uplotPackage)), 'utf8')
await writeFile(new URL('licenses.txt', out), `The atSpark dashboard bundles uPlot ${uplot.version} (https://github.com/leeoniya/uPlot):\n\n${uplotLicense}`)

const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
console.log(`dashboard bundled: ${(bytes / 1024).toFixed(1)} KiB of JavaScript in ${fileURLToPath(out)}`)
