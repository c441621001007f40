// Each package's vitest also writes a JSON report so CI can print one "N passed, N failed" line.
import { fileURLToPath } from 'node:url'

const reportsDir = fileURLToPath(new URL('../../.vitest-reports/', import.meta.url))

/** @param {string} name */
export function reportersFor(name) {
  return ['default', ['json', { outputFile: `${reportsDir}${name}.json` }]]
}
