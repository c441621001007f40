import { chmodSync, lstatSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'

// The warehouse data directory holds every event, the pseudonym key and the IP keys: nobody but
// the service user may read any of it, whatever the umask the service was started with.

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out = [{ path: dir, mode: lstatSync(dir).mode & 0o777, dir: true }]
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const stat = lstatSync(path)
    if (stat.isSymbolicLink()) continue
    if (stat.isDirectory()) out.push(...modes(path))
    else out.push({ path, mode: stat.mode & 0o777, dir: false })
  }
  return out
}

let pipeline: RunningPipeline | undefined
let dataDir = ''
let found: ReturnType<typeof modes> = []
let firstOutput = ''
let secondOutput = ''

beforeAll(async () => {
  // A path that does not exist yet (mkdtemp itself would make a 0700 directory and prove nothing).
  dataDir = join(mkdtempSync(join(tmpdir(), 'atspark-datadir-')), 'nested', 'data')
  pipeline = await startPipeline({ ATSPARK_DATA_DIR: dataDir })
  const origin = pipeline.demo
  for (let i = 0; i < 5; i++) expect((await post(pipeline.ingest, batch([event(), event({ t: 'click', n: 'cta' })]), { origin })).status).toBe(202)
  const now = Date.now()
  const receipt = await fetch(`${pipeline.ingest}/v1/consent`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin },
    body: JSON.stringify({ v: 1, k: 'pk_demo', id: crypto.randomUUID(), ts: now, sa: now, a: true, p: false, src: 'banner', r: '1' }),
  })
  expect(receipt.status).toBe(202)
  expect(await pipeline.stop()).toBe(0)
  firstOutput = pipeline.output()
  // Read before this process opens the engine: only what the pipeline wrote is judged.
  found = modes(dataDir)

  // An operator's directory that is wider than it should be: said at start-up, not changed behind their back.
  chmodSync(dataDir, 0o755)
  pipeline = await startPipeline({ ATSPARK_DATA_DIR: dataDir })
  expect(await pipeline.stop()).toBe(0)
  secondOutput = pipeline.output()
})

afterAll(async () => {
  await pipeline?.stop()
})

describe('the warehouse data directory is private', () => {
  it('was created 0700, with the engine files, the pseudonym key and the IP keys inside', () => {
    expect(found[0]).toEqual({ path: dataDir, mode: 0o700, dir: true })
    const names = found.map((f) => f.path.slice(dataDir.length + 1))
    expect(names).toEqual(expect.arrayContaining(['hmac.secret', 'ip-keys.json']))
    // The engine wrote its tables there: the check below covers more than the two key files.
    expect(found.filter((f) => !f.dir).length).toBeGreaterThan(20)
  })

  it('holds no file or directory that group or others may read, write or enter, after the pipeline ran', () => {
    const open = found.filter((f) => f.mode & 0o077).map((f) => `${f.path} ${f.mode.toString(8)}`)
    expect(open).toEqual([])
    for (const key of ['hmac.secret', 'ip-keys.json']) expect(found.find((f) => f.path === join(dataDir, key))?.mode).toBe(0o600)
  })

  it('warns at start-up, in one log line naming the path and mode, when the directory is wider', () => {
    const warnings = (text: string) => text.split('\n').filter((line) => line.includes('open to other users'))
    expect(warnings(firstOutput)).toEqual([])
    const lines = warnings(secondOutput)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(dataDir)
    expect(lines[0]).toContain('0755')
  })
})
