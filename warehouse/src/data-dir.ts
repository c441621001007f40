import { mkdirSync, statSync } from 'node:fs'
import { resolve } from 'node:path'

/** What a data directory may be: the service user's alone. */
const PRIVATE_DIR_MODE = 0o700
/** Group and other bits off for everything this process creates from now on, chDB's own files included. */
const PRIVATE_UMASK = 0o077

export interface DataDirCheck {
  path: string
  /** Permission bits of the directory as found (or as created), e.g. 0o700. */
  mode: number
  created: boolean
  /** Set when an existing directory lets group or others in: the one line to warn with. */
  warning?: string
}

/**
 * Makes the warehouse data directory private before anything writes there: the process umask
 * becomes 077 (chDB creates its files with the process umask), a missing directory is created
 * 0700, and an existing wider one is reported, not changed (its owner may have reasons).
 */
export function privateDataDir(dir: string): DataDirCheck {
  process.umask(PRIVATE_UMASK)
  const path = resolve(dir)
  let created = false
  try {
    statSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE })
    created = true
  }
  const mode = statSync(path).mode & 0o777
  const check: DataDirCheck = { path, mode, created }
  if (mode & ~PRIVATE_DIR_MODE) check.warning = `data directory ${path} has mode ${octal(mode)}, open to other users: chmod 700 it (new files are created private)`
  return check
}

function octal(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`
}
