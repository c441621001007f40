import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ensureChromium } from './chromium.js'

/** Suites run the built artifacts; say which build is missing instead of failing obscurely later. */
export default function setup(): void {
  for (const artifact of ['../../../server/dist/main.js', '../../../sdk/dist/atspark.min.js']) {
    const path = fileURLToPath(new URL(artifact, import.meta.url))
    if (!existsSync(path)) throw new Error(`${path} is missing: run 'npm run build' first (npm test does)`)
  }
  ensureChromium()
}
