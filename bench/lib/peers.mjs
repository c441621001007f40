// Peers' browser scripts that npm does not ship ready to measure. umami's tracker lives inside the umami app
// package (whose dependencies are a whole Next.js app), so its tarball alone is fetched with `npm pack`, checked
// against a pinned integrity, and its tracker built the way umami's rollup.tracker.config.mjs builds it.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import terser from '@rollup/plugin-terser'
import { rollup } from 'rollup'

const CACHE = fileURLToPath(new URL('../node_modules/.cache/atspark-bench/peers/', import.meta.url))

export const UMAMI = { version: '2.10.0', integrity: 'sha512-+lmrnV0751R6U2rkIgVAlE1nWI7yZawlMlJDguW9tlFacCKhnGeCyc7tCMIhNNYIiGIQy4DEX5IzJhm4b3+dPA==' }

/** umami's public/script.js, built from the pinned tarball's src/tracker/index.js (iife, terser without evaluate). */
export async function umamiTracker() {
  const dir = `${CACHE}umami-${UMAMI.version}/`
  const tarball = `${dir}umami-${UMAMI.version}.tgz`
  const entry = `${dir}package/src/tracker/index.js`
  if (!existsSync(entry)) {
    mkdirSync(dir, { recursive: true })
    if (!existsSync(tarball)) execFileSync('npm', ['pack', `umami@${UMAMI.version}`, '--pack-destination', dir, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 })
    const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`
    if (actual !== UMAMI.integrity) throw new Error(`umami ${UMAMI.version} tarball integrity ${actual} is not the pinned ${UMAMI.integrity}`)
    execFileSync('tar', ['xzf', tarball, '-C', dir, 'package/src/tracker/index.js', 'package/LICENSE'])
  }
  const build = await rollup({ input: entry, onwarn: () => {} })
  const { output } = await build.generate({ format: 'iife', plugins: [terser({ compress: { evaluate: false } })] })
  await build.close()
  return Buffer.from(output[0].code)
}
