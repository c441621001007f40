import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

/**
 * Runnable examples in the Markdown docs. A shell block preceded by an HTML comment (invisible when rendered)
 *
 *     <!-- runnable -->                                  exit 0 and print something
 *     <!-- runnable json=".metrics.visitors.value" -->   stdout is one JSON document; each path (space-separated) holds data
 *     <!-- runnable csv -->                              stdout is CSV: a header and at least one row
 *     <!-- runnable error="invalid_filter" -->           stdout is a JSON refusal with that `error` (the block uses curl -sS, not -f)
 *
 * runs verbatim in bash after `source data/dev.env`, each block on its own (variables do not carry over, files in the
 * working directory do): an example a reader pastes alone must work alone.
 */
export interface DocBlock {
  /** Repository-relative path and 1-based line of the opening fence, for messages. */
  where: string
  code: string
  json: string[]
  csv: boolean
  error?: string
}

const BLOCK = /<!--\s*runnable\b([^>]*?)-->[ \t]*\r?\n```(?:sh|bash|shell)[ \t]*\r?\n([\s\S]*?)\r?\n```/g
const ATTRIBUTE = /([a-z]+)(?:="([^"]*)")?/g
const KNOWN = new Set(['json', 'csv', 'error'])

/** The runnable blocks of one Markdown text; an unknown attribute is a mistake in the docs, so it throws. */
export function runnableBlocks(markdown: string, where: string): DocBlock[] {
  const blocks: DocBlock[] = []
  for (const m of markdown.matchAll(BLOCK)) {
    const line = markdown.slice(0, m.index).split('\n').length + 1
    const block: DocBlock = { where: `${where}:${line}`, code: m[2]!, json: [], csv: false }
    for (const [, name, value] of (m[1] ?? '').matchAll(ATTRIBUTE)) {
      if (!KNOWN.has(name!)) throw new Error(`${block.where}: unknown runnable attribute ${name}`)
      if (name === 'json') block.json = (value ?? '').split(/\s+/).filter(Boolean)
      if (name === 'csv') block.csv = true
      if (name === 'error') block.error = value
    }
    blocks.push(block)
  }
  return blocks
}

/** README.md and every docs/*.md of the repository, with their runnable blocks. */
export function repositoryDocBlocks(root: string): DocBlock[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))]
  return files.flatMap((file) => runnableBlocks(readFileSync(join(root, file), 'utf8'), relative(root, join(root, file))))
}

/** `.a.b[0].c` → the value there, or undefined when any step is missing. */
export function valueAt(document: unknown, path: string): unknown {
  if (!path.startsWith('.')) throw new Error(`a JSON path starts with a dot: ${path}`)
  let here: unknown = document
  for (const [, key, index] of path.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)) {
    if (here === null || typeof here !== 'object') return undefined
    here = key !== undefined ? (here as Record<string, unknown>)[key] : (here as unknown[])[Number(index)]
  }
  return here
}

/** Data, not an empty answer: a null, 0, '', [] or {} at a path where the docs promise data is a failure. */
export function holdsData(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === 0 || value === false) return false
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'object') return Object.keys(value).length > 0
  return true
}

/** What is wrong with a block's output, or undefined when it is what the docs promise. */
export function checkOutput(block: DocBlock, stdout: string): string | undefined {
  if (stdout.trim() === '') return 'printed nothing'
  if (block.csv) {
    const lines = stdout.trim().split(/\r?\n/)
    return lines.length >= 2 && lines[0]!.includes(',') ? undefined : `expected CSV with a header and rows, got: ${stdout.slice(0, 300)}`
  }
  if (block.json.length === 0 && block.error === undefined) return undefined
  let document: unknown
  try {
    document = JSON.parse(stdout)
  } catch {
    return `expected one JSON document, got: ${stdout.slice(0, 300)}`
  }
  if (block.error !== undefined) {
    const error = valueAt(document, '.error')
    return error === block.error ? undefined : `expected error ${block.error}, got: ${stdout.slice(0, 300)}`
  }
  const empty = block.json.filter((path) => !holdsData(valueAt(document, path)))
  return empty.length === 0 ? undefined : `no data at ${empty.join(', ')} in: ${stdout.slice(0, 600)}`
}
