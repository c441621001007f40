import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Debian's Chromium, never a downloaded browser build. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Flags the browser suites need here: root, no GPU, and no calls home on a closed network. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']

/** Installs Debian's chromium when missing and we are root; otherwise fails naming what is missing. */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH
  if (process.getuid?.() !== 0) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH}: install Debian's 'chromium' package (apt-get install chromium) or set CHROMIUM_PATH`)
  }
  console.log('[setup] installing Debian chromium (apt-get install chromium)…')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env })
  } catch (err) {
    throw new Error(`Chromium is missing at ${CHROMIUM_PATH} and 'apt-get install chromium' failed`, { cause: err })
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`'apt-get install chromium' ran but ${CHROMIUM_PATH} is still missing`)
  return CHROMIUM_PATH
}
