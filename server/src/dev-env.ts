import { randomBytes } from 'node:crypto'
import { chmod, rename, rm, writeFile } from 'node:fs/promises'
import { isAbsolute, join, relative } from 'node:path'

/** The file `npm start` writes into its data dir so a shell can `source` the demo's keys and the back office's address. */
export const DEV_ENV_FILE = 'dev.env'

export interface DevEnv {
  /** The back office as a client on this machine reaches it, e.g. `http://127.0.0.1:8081`. */
  url: string
  analystKey: string
  privacyKey: string
  adminKey: string
  /** Ingest as a client on this machine reaches it, for sending a test event. */
  ingestUrl: string
  /** The demo product page: also the `demo` site's allowed origin, which ingest checks. */
  demoUrl: string
}

/** Where a client on this machine reaches a server bound to `host`: a wildcard bind is reached on loopback, IPv6 in brackets. */
export function localUrl(host: string, port: number): string {
  const reachable = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' || host === '[::]' ? '::1' : host
  const bracketed = reachable.includes(':') && !reachable.startsWith('[') ? `[${reachable}]` : reachable
  return `http://${bracketed}:${port}`
}

/** POSIX shell quoting: bare when the value is plain (keys and URLs are), single-quoted otherwise. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'"'"'`)}'`
}

/** The file's text: a comment saying what it is, then one `export NAME=value` line per variable. */
export function devEnvText(env: DevEnv): string {
  const lines: [string, string][] = [
    ['ATSPARK_URL', env.url],
    ['ATSPARK_ANALYST_KEY', env.analystKey],
    ['ATSPARK_PRIVACY_KEY', env.privacyKey],
    ['ATSPARK_ADMIN_KEY', env.adminKey],
    ['ATSPARK_INGEST_URL', env.ingestUrl],
    ['ATSPARK_DEMO_URL', env.demoUrl],
  ]
  return [
    '# Written by `npm start` for the demo org (dev only): keys minted at this start, invalid once it stops.',
    '# Load it into a shell with `source` and this file\'s path (the start banner prints it).',
    ...lines.map(([name, value]) => `export ${name}=${shellQuote(value)}`),
    '',
  ].join('\n')
}

/** Writes `<dir>/dev.env` readable by its owner only (0600), replacing any older one whole; returns its path. */
export async function writeDevEnv(dir: string, env: DevEnv): Promise<string> {
  const path = join(dir, DEV_ENV_FILE)
  // A fresh temporary name created with mode 0600, then renamed: the keys are never readable by others, not even briefly.
  const temporary = join(dir, `.${DEV_ENV_FILE}.${randomBytes(6).toString('hex')}`)
  try {
    await writeFile(temporary, devEnvText(env), { mode: 0o600, flag: 'wx' })
    // The umask can only remove bits; this makes the mode exact whatever it is.
    await chmod(temporary, 0o600)
    await rename(temporary, path)
  } catch (err) {
    await rm(temporary, { force: true })
    throw err
  }
  return path
}

/** With a tenants file there are no demo keys: an earlier start's file would only hold dead keys, so it goes. */
export async function removeDevEnv(dir: string): Promise<void> {
  await rm(join(dir, DEV_ENV_FILE), { force: true })
}

/** How the banner names the file: relative to the working directory when it lies below it, else absolute. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path)
  const shown = rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
  return shellQuote(shown)
}
