import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The pseudonym key: the configured one, else one minted on first start and kept (0600) in the
 * data dir, so pseudonyms stay stable across restarts without anyone choosing a weak key.
 */
export async function loadHmacSecret(configured: string | undefined, dataDir: string): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'utf8')
  const file = join(dataDir, 'hmac.secret')
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const secret = randomBytes(32)
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await writeFile(file, secret.toString('hex'), { mode: 0o600, flag: 'wx' })
  return secret
}
