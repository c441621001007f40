// Markdown tables, and bench/results/latest.{json,md}: one section per benchmark, each stamped with its own run.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'

export const RESULTS_DIR = new URL('../results/', import.meta.url)

/** A GitHub-flavoured table; `align` holds 'l' or 'r' per column (default left). */
export function table(headers, rows, align = []) {
  const cell = (v) => String(v ?? '').replaceAll('|', '\\|').replaceAll('\n', ' ')
  const rule = headers.map((_, i) => (align[i] === 'r' ? '---:' : '---'))
  return [headers, rule, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n')
}

/** Columns every benchmark's summary rows share: measured value beside its same-run ceiling and the target. */
export const SUMMARY_HEADERS = ['benchmark', 'measure', 'measured', 'ceiling (same run)', 'ratio', 'target', 'status']
const SUMMARY_ALIGN = ['l', 'l', 'r', 'r', 'r', 'l', 'l']

/**
 * One summary row. `met` true/false renders met/GAP, undefined renders "info" (a figure without a target);
 * `gap` says the measured shortfall and its cause when known.
 */
export function summaryRow({ benchmark, measure, measured, ceiling = '—', ratio = '—', target = '—', met, gap }) {
  const status = met === undefined ? 'info' : met ? 'met' : `GAP${gap ? `: ${gap}` : ''}`
  return [benchmark, measure, measured, ceiling, ratio, target, status]
}

export function summaryTable(rows) {
  return table(SUMMARY_HEADERS, rows, SUMMARY_ALIGN)
}

function readLatest(base) {
  try {
    return JSON.parse(readFileSync(new URL(`${base}.json`, RESULTS_DIR), 'utf8'))
  } catch {
    return { benchmarks: {} }
  }
}

/**
 * Merges this run's sections into latest.json (benchmarks not run keep their earlier section, dated)
 * and renders latest.md from it, in `order`. Quick runs go to quick.{json,md}, so a smoke check never
 * replaces a full figure. Returns the path written.
 */
export function writeLatest(order, run, sections) {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const base = run.quick ? 'quick' : 'latest'
  const latest = readLatest(base)
  for (const s of sections) latest.benchmarks[s.name] = { ...s, date: run.date, machine: run.machine, quick: run.quick }
  latest.updated = run.date
  writeFileSync(new URL(`${base}.json`, RESULTS_DIR), `${JSON.stringify(latest, null, 2)}\n`)
  const present = order.filter((n) => latest.benchmarks[n])
  const ranNow = new Set(sections.map((s) => s.name))
  const lines = [
    run.quick ? '# Benchmark results (quick runs)' : '# Benchmark results',
    '',
    `Written by \`npm run bench\` (bench/run.mjs). Last run: ${run.date}${run.quick ? ' (BENCH_QUICK=1: shorter runs, fewer rows; a smoke check, not the figures of record)' : ''}.`,
    'Every figure is a median of repeated runs; every ratio is against a ceiling measured in the same run on the same machine.',
    '',
    '## Machine (last run)',
    '',
    table(['what', 'value'], Object.entries(run.machine)),
    '',
    '## Summary',
    '',
    summaryTable(present.flatMap((n) => latest.benchmarks[n].summary)),
    '',
  ]
  const older = present.filter((n) => !ranNow.has(n))
  if (older.length) lines.push(`Sections from earlier runs (see their dates): ${older.join(', ')}.`, '')
  for (const n of present) {
    const s = latest.benchmarks[n]
    lines.push(`## ${n}`, '', `_Run ${s.date}${s.quick ? ', quick' : ''}; took ${s.seconds} s; 1-minute load average at its end ${s.load ?? '?'} on ${(s.machine ?? run.machine).cpu.split(' ')[0]} cores._`, '', s.markdown.trim(), '')
  }
  writeFileSync(new URL(`${base}.md`, RESULTS_DIR), `${lines.join('\n')}\n`)
  return `bench/results/${base}.md`
}
