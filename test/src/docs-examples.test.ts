import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkOutput, type DocBlock, repositoryDocBlocks, runnableBlocks } from './support/doc-blocks.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { writeTenantsFile } from './support/tenants-file.js'

// The docs' promise: every block marked runnable in README.md and docs/*.md runs as written after `source data/dev.env`
// against `npm start` with its demo traffic (sites demo and docs, the keys it mints).
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const BLOCKS = repositoryDocBlocks(ROOT)
const SEEDED = '"msg":"demo traffic seeded"'
const BLOCK_TIMEOUT_MS = 60_000

let pipeline: RunningPipeline
let devEnv = ''
let workDir = ''

/** Runs a block as a reader would paste it into bash after sourcing dev.env (stricter: any failing command fails it). */
function runBlock(block: DocBlock): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = join(workDir, 'example.sh')
  writeFileSync(script, `set -euo pipefail\nsource ${JSON.stringify(devEnv)}\n${block.code}\n`)
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['--noprofile', '--norc', script],
      { cwd: workDir, env: { PATH: process.env.PATH, HOME: workDir, LANG: 'C.UTF-8' }, timeout: BLOCK_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    )
  })
}

describe('docs examples run verbatim against npm start', () => {
  beforeAll(async () => {
    pipeline = await startPipeline({ DEMO_TRAFFIC: '1' })
    const deadline = Date.now() + 90_000
    while (!pipeline.output().includes(SEEDED)) {
      if (Date.now() > deadline) throw new Error(`demo traffic not seeded:\n${pipeline.output()}`)
      await new Promise((r) => setTimeout(r, 250))
    }
    devEnv = join(pipeline.dataDir, 'dev.env')
    workDir = mkdtempSync(join(tmpdir(), 'atspark-docs-'))
    // As in the repository after `npm start`: ./data is the data dir, so a block's own `source data/dev.env` works too.
    symlinkSync(pipeline.dataDir, join(workDir, 'data'))
  })

  afterAll(async () => {
    expect(await pipeline?.stop()).toBe(0)
  })

  it('writes data/dev.env (0600) with the back office address and the keys the banner prints, and says to source it', async () => {
    expect(statSync(devEnv).mode & 0o777).toBe(0o600)
    const printed = (role: string) => pipeline.output().match(new RegExp(`demo ${role} key\\s+(sk_[A-Za-z0-9_-]+)`))?.[1]
    const { stdout } = await runBlock({ where: 'dev.env', code: 'env | grep ^ATSPARK_ | sort', json: [], csv: false })
    const port = (url: string) => new URL(url).port
    expect(stdout.trim().split('\n')).toEqual([
      `ATSPARK_ADMIN_KEY=${printed('admin')}`,
      `ATSPARK_ANALYST_KEY=${printed('analyst')}`,
      `ATSPARK_DEMO_URL=${pipeline.demo}`,
      `ATSPARK_INGEST_URL=http://127.0.0.1:${port(pipeline.ingest)}`,
      `ATSPARK_PRIVACY_KEY=${printed('privacy')}`,
      `ATSPARK_URL=http://127.0.0.1:${port(pipeline.backoffice)}`,
    ])
    expect(pipeline.output()).toMatch(/in a shell\s+source \S*dev\.env/)
  })

  it('marks examples of every analyst endpoint runnable', () => {
    const analysts = BLOCKS.filter((b) => b.where.startsWith('docs/analysts.md')).map((b) => b.code)
    for (const endpoint of [
      '/v1/stats/sites',
      '/v1/stats/aggregate',
      '/v1/stats/breakdown',
      '/v1/stats/timeseries',
      '/v1/stats/goals',
      '/v1/stats/funnel',
      '/v1/stats/adoption',
      '/v1/stats/adoption/cohorts',
      '/v1/stats/consent',
      '/v1/stats/realtime',
      '/v1/stats/realtime/integration',
      '/v1/stats/export',
      'format=csv',
      'filters=',
      'compare=previous_period',
      '/v1/shares',
      '/v1/shared/',
    ]) {
      expect(
        analysts.some((code) => code.includes(endpoint)),
        endpoint,
      ).toBe(true)
    }
  })

  it.each(BLOCKS.map((b) => [b.where, b] as const))('%s', async (_where, block) => {
    const { code, stdout, stderr } = await runBlock(block)
    const problem = code !== 0 ? `exit ${code}\n${stderr}\n${stdout.slice(0, 600)}` : checkOutput(block, stdout)
    // The whole story in the failure: where, the block as written, and what it printed.
    if (problem !== undefined) throw new Error(`${block.where} does not run as documented:\n${block.code}\n---\n${problem}`)
  })
})

describe('the runnable-block checker', () => {
  const doc = [
    'text',
    '<!-- runnable json=".rows[0].value .k" -->',
    '```sh',
    'curl -fsS "$ATSPARK_URL/x"',
    '```',
    '<!-- runnable csv -->',
    '```sh',
    'echo a',
    '```',
    '```sh',
    'echo not marked',
    '```',
  ].join('\n')
  const [json, csv] = runnableBlocks(doc, 'x.md')

  it('finds only marked blocks, with their line and expectations', () => {
    expect(runnableBlocks(doc, 'x.md')).toHaveLength(2)
    expect(json).toMatchObject({ where: 'x.md:3', code: 'curl -fsS "$ATSPARK_URL/x"', json: ['.rows[0].value', '.k'], csv: false })
    expect(csv).toMatchObject({ where: 'x.md:7', csv: true })
    expect(() => runnableBlocks('<!-- runnable jsn=".a" -->\n```sh\necho\n```', 'y.md')).toThrow(/unknown runnable attribute jsn/)
  })

  it('tells data from an empty answer', () => {
    expect(checkOutput(json!, '{"k":5,"rows":[{"value":"/","visitors":9}]}')).toBeUndefined()
    for (const empty of ['', '{"k":5,"rows":[]}', '{"k":5,"rows":[{"value":null}]}', '{"k":0,"rows":[{"value":"/"}]}', 'not json'])
      expect(checkOutput(json!, empty), empty).toBeDefined()
    expect(checkOutput(csv!, 'value,visitors\n/,9\n')).toBeUndefined()
    expect(checkOutput(csv!, 'value,visitors\n')).toBeDefined()
    const refusal = { where: 'z', code: '', json: [], csv: false, error: 'invalid_filter' }
    expect(checkOutput(refusal, '{"error":"invalid_filter","message":"m"}')).toBeUndefined()
    expect(checkOutput(refusal, '{"error":"invalid_request","message":"m"}')).toBeDefined()
  })
})

describe('dev.env with a tenants file', () => {
  it('is not written, and an earlier demo start’s file (dead keys) is removed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atspark-docs-tenants-'))
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(join(dataDir, 'dev.env'), 'export ATSPARK_ANALYST_KEY=sk_dead\n', { mode: 0o600 })
    const running = await startPipeline({ ATSPARK_DATA_DIR: dataDir, ATSPARK_TENANTS_FILE: writeTenantsFile(['pk_docs_examples']) })
    try {
      expect(existsSync(join(dataDir, 'dev.env'))).toBe(false)
      expect(running.output()).not.toContain('dev.env')
      expect(running.output()).not.toContain('demo analyst key')
    } finally {
      expect(await running.stop()).toBe(0)
    }
  })
})

// A mistake in a marker (a typo in an attribute) throws while collecting; a docs file without any runnable block is fine.
if (BLOCKS.length === 0) throw new Error(`no runnable blocks found under ${ROOT}`)
