import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { IpKeysFile } from '@atspark/schemas'
import { z } from 'zod'
import type { IpKeyEnv } from './env.js'
import type { IpKeyring } from './ip-seal.js'
import type { Logger } from './logger.js'

/** Standalone services have no safe default: sealing must use the same keys on every ingest and processor. */
export const IP_KEYS_MISSING =
  'no IP sealing key: set ATSPARK_IP_KEYS=<kid>:<base64 32-byte key>[,…] (plus ATSPARK_IP_KEY_ACTIVE when several) or ATSPARK_IP_KEYS_FILE, with the same keys on ingest and processor'

/** The file `npm start` writes its key to when none is configured. */
export const GENERATED_IP_KEYS_FILE = 'ip-keys.json'

export class IpKeyConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'IpKeyConfigError'
  }
}

/** Reads and validates a keys file. Errors name the file and the field, never key material or file content. */
export async function readIpKeysFile(path: string): Promise<IpKeyring> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new IpKeyConfigError(`IP keys file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // JSON.parse's message quotes the text, which is key material.
    throw new IpKeyConfigError(`IP keys file ${path} is not valid JSON`)
  }
  const parsed = IpKeysFile.safeParse(json)
  if (!parsed.success) throw new IpKeyConfigError(`IP keys file ${path} is invalid: ${z.prettifyError(parsed.error)}`)
  return { active: parsed.data.active, keys: new Map(Object.entries(parsed.data.keys).map(([kid, b64]) => [kid, Buffer.from(b64, 'base64')])) }
}

/** Writes a fresh one-key file (0600); when the file appeared meanwhile, the existing one wins. */
async function generateIpKeysFile(path: string): Promise<void> {
  const kid = `local-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`
  const content: IpKeysFile = { active: kid, keys: { [kid]: randomBytes(32).toString('base64') } }
  try {
    await writeFile(path, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}

export type IpKeySource = 'env' | 'file' | 'generated'

/**
 * The keyring in use, swapped whole on reload: a request seals with the keyring it read, so a
 * reload never fails a request in flight.
 */
export class IpKeys {
  private constructor(
    private ring: IpKeyring,
    readonly source: IpKeySource,
    /** The file re-read by `reload()`; undefined when the keys come from the environment. */
    readonly file: string | undefined,
  ) {}

  /**
   * From ATSPARK_IP_KEYS (+ ATSPARK_IP_KEY_ACTIVE), else ATSPARK_IP_KEYS_FILE, else — only
   * with `generateIn` (the embedded runner's data dir) — a key minted once into that directory.
   */
  static async load(env: IpKeyEnv, options: { generateIn?: string } = {}): Promise<IpKeys> {
    const listed = env.ATSPARK_IP_KEYS
    if (listed && listed.size > 0) {
      const active = env.ATSPARK_IP_KEY_ACTIVE ?? (listed.size === 1 ? [...listed.keys()][0] : undefined)
      if (!active || !listed.has(active)) throw new IpKeyConfigError('ATSPARK_IP_KEY_ACTIVE must name one of the kids in ATSPARK_IP_KEYS')
      return new IpKeys({ active, keys: new Map(listed) }, 'env', undefined)
    }
    if (env.ATSPARK_IP_KEYS_FILE) return new IpKeys(await readIpKeysFile(env.ATSPARK_IP_KEYS_FILE), 'file', env.ATSPARK_IP_KEYS_FILE)
    if (!options.generateIn) throw new IpKeyConfigError(IP_KEYS_MISSING)
    await mkdir(options.generateIn, { recursive: true })
    const file = join(options.generateIn, GENERATED_IP_KEYS_FILE)
    await generateIpKeysFile(file)
    return new IpKeys(await readIpKeysFile(file), 'generated', file)
  }

  /** A fixed keyring (tests, tools). */
  static of(keyring: IpKeyring): IpKeys {
    return new IpKeys(keyring, 'env', undefined)
  }

  get keyring(): IpKeyring {
    return this.ring
  }

  /** Kids and the active one, for logs: never key material. */
  describe(): { source: IpKeySource; active: string; kids: string[] } {
    return { source: this.source, active: this.ring.active, kids: [...this.ring.keys.keys()] }
  }

  /**
   * Re-reads the keys file (SIGHUP). A file that cannot be read or is invalid leaves the current
   * keys in place and throws. Keys from the environment cannot change: returns false.
   */
  async reload(): Promise<boolean> {
    if (!this.file) return false
    this.ring = await readIpKeysFile(this.file)
    return true
  }
}

/** Applies `reload()` and logs the outcome with kids only; a bad file keeps the current keys. */
export async function reloadIpKeys(keys: IpKeys, logger: Logger): Promise<void> {
  try {
    if (await keys.reload()) logger.info(keys.describe(), 'IP keys reloaded')
  } catch (err) {
    logger.error({ reason: (err as Error).message }, 'IP keys reload failed; keeping the current keys')
  }
}

/** SIGHUP re-reads the keys file (rotation without a restart); other SIGHUP listeners are left alone. */
export function reloadIpKeysOnSighup(keys: IpKeys, logger: Logger): void {
  process.on('SIGHUP', () => void reloadIpKeys(keys, logger))
}

/** A standalone service's keys: loaded, logged by kid, reloaded on SIGHUP; without keys the process exits 2 naming ATSPARK_IP_KEYS. */
export async function loadServiceIpKeys(env: IpKeyEnv, logger: Logger): Promise<IpKeys> {
  let keys: IpKeys
  try {
    keys = await IpKeys.load(env)
  } catch (err) {
    logger.fatal((err as Error).message)
    process.exit(2)
  }
  logger.info(keys.describe(), 'IP keys loaded')
  reloadIpKeysOnSighup(keys, logger)
  return keys
}
