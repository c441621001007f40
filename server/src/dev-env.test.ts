import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEV_ENV_FILE, devEnvText, displayPath, localUrl, removeDevEnv, shellQuote, writeDevEnv } from './dev-env.js'

const ENV = {
  url: 'http://127.0.0.1:8081',
  analystKey: 'sk_K3J_Vlqthr0ocrTqH4-oFRJPV_Tneg-VjJ3xrt17jCU',
  privacyKey: 'sk_EcZDKbJj-fflRx1mOwuUkVltsC6ietoJhJvVnXawKDE',
  adminKey: 'sk_Admin-key_0123456789abcdefghijklmnopqrstuvw',
  ingestUrl: 'http://127.0.0.1:8080',
  demoUrl: 'http://localhost:3000',
}

/** What a real bash sees after `source`-ing the file: the four variables, exported. */
function sourced(path: string): Record<string, string> {
  const out = execFileSync('bash', ['-c', 'source "$1" && env', 'bash', path], { env: { PATH: process.env.PATH }, encoding: 'utf8' })
  return Object.fromEntries(out.split('\n').filter((l) => l.startsWith('ATSPARK_')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
}

describe('dev.env', () => {
  it('holds one export line per variable, exactly as the docs source them', () => {
    const lines = devEnvText(ENV)
      .split('\n')
      .filter((l) => l.startsWith('export '))
    expect(lines).toEqual([
      'export ATSPARK_URL=http://127.0.0.1:8081',
      `export ATSPARK_ANALYST_KEY=${ENV.analystKey}`,
      `export ATSPARK_PRIVACY_KEY=${ENV.privacyKey}`,
      `export ATSPARK_ADMIN_KEY=${ENV.adminKey}`,
      'export ATSPARK_INGEST_URL=http://127.0.0.1:8080',
      'export ATSPARK_DEMO_URL=http://localhost:3000',
    ])
  })

  it('is written with mode 0600 whatever the umask, replaces an older file whole and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atspark-devenv-'))
    const path = join(dir, DEV_ENV_FILE)
    writeFileSync(path, 'export ATSPARK_URL=stale\nexport STALE=1\n', { mode: 0o644 })
    const previous = process.umask(0o000)
    try {
      expect(await writeDevEnv(dir, ENV)).toBe(path)
    } finally {
      process.umask(previous)
    }
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(readFileSync(path, 'utf8')).not.toContain('STALE')
    expect(readdirSync(dir)).toEqual([DEV_ENV_FILE])
    expect(sourced(path)).toEqual({
      ATSPARK_URL: ENV.url,
      ATSPARK_ANALYST_KEY: ENV.analystKey,
      ATSPARK_PRIVACY_KEY: ENV.privacyKey,
      ATSPARK_ADMIN_KEY: ENV.adminKey,
      ATSPARK_INGEST_URL: ENV.ingestUrl,
      ATSPARK_DEMO_URL: ENV.demoUrl,
    })
  })

  it('quotes a value the shell would otherwise split or expand', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atspark-devenv-'))
    const odd = `a b$HOME'"\`;x`
    const path = await writeDevEnv(dir, { ...ENV, url: odd })
    expect(sourced(path).ATSPARK_URL).toBe(odd)
    expect(shellQuote('sk_abc-DEF_09')).toBe('sk_abc-DEF_09')
  })

  it('is removed when a tenants file replaces the demo keys, and removing a missing one is no error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'atspark-devenv-'))
    await writeDevEnv(dir, ENV)
    await removeDevEnv(dir)
    expect(readdirSync(dir)).toEqual([])
    await removeDevEnv(dir)
  })

  it('names the back office as a local client reaches it: loopback for a wildcard bind, IPv6 in brackets', () => {
    expect(localUrl('127.0.0.1', 8081)).toBe('http://127.0.0.1:8081')
    expect(localUrl('0.0.0.0', 8081)).toBe('http://127.0.0.1:8081')
    expect(localUrl('::', 9000)).toBe('http://[::1]:9000')
    expect(localUrl('::1', 9000)).toBe('http://[::1]:9000')
    expect(localUrl('localhost', 1)).toBe('http://localhost:1')
  })

  it('shows the file relative to the working directory when it lies below it', () => {
    expect(displayPath('/work/main/data/dev.env', '/work/main')).toBe('data/dev.env')
    expect(displayPath('/tmp/x/dev.env', '/work/main')).toBe('/tmp/x/dev.env')
    expect(displayPath('/tmp/my data/dev.env', '/work/main')).toBe(`'/tmp/my data/dev.env'`)
  })
})
