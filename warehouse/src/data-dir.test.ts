import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { privateDataDir } from './data-dir.js'

const root = mkdtempSync(join(tmpdir(), 'atspark-datadir-'))
const before = process.umask()
afterEach(() => {
  process.umask(before)
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

describe('privateDataDir', () => {
  it('creates a missing directory (and its parents) 0700, and later files get no group or other bits', () => {
    process.umask(0o022)
    const dir = join(root, 'fresh', 'data')
    const check = privateDataDir(dir)
    expect(check).toEqual({ path: dir, mode: 0o700, created: true })
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    writeFileSync(join(dir, 'file'), 'x')
    mkdirSync(join(dir, 'sub'))
    expect(statSync(join(dir, 'file')).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o700)
  })

  it('warns once, naming the path and mode, when an existing directory is wider, and leaves it as it is', () => {
    const dir = join(root, 'wide')
    mkdirSync(dir)
    chmodSync(dir, 0o755)
    const check = privateDataDir(dir)
    expect(check.created).toBe(false)
    expect(check.warning).toBe(`data directory ${dir} has mode 0755, open to other users: chmod 700 it (new files are created private)`)
    expect(statSync(dir).mode & 0o777).toBe(0o755)
    chmodSync(dir, 0o700)
    expect(privateDataDir(dir).warning).toBeUndefined()
  })
})
