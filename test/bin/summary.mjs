// Sums every package's vitest JSON report into the one closing line CI reads.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const dir = fileURLToPath(new URL('../../.vitest-reports/', import.meta.url))
let passed = 0
let failed = 0
let skipped = 0
let files = []
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.json'))
} catch {
  // no reports means no test ran: say so below
}
for (const f of files) {
  const r = JSON.parse(readFileSync(dir + f, 'utf8'))
  passed += r.numPassedTests
  failed += r.numFailedTests
  skipped += r.numPendingTests + (r.numTodoTests ?? 0)
  console.log(`${f.replace(/\.json$/, '')}: ${r.numPassedTests} passed, ${r.numFailedTests} failed`)
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
process.exit(failed > 0 || passed === 0 || skipped > 0 ? 1 : 0)
