import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The origin the abuse, ops and load suites post from (no browser, just the header). */
export const SITE_ORIGIN = 'http://localhost:3999'

/** Writes a tenants file with one org and a site per write key (opt-out, SITE_ORIGIN allowed); returns its path. */
export function writeTenantsFile(writeKeys: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-tenants-')), 'tenants.json')
  const sites = writeKeys.map((key, i) => ({ id: `site${i}`, write_key: key, allowed_origins: [SITE_ORIGIN], consent_mode: 'opt-out' }))
  writeFileSync(file, JSON.stringify({ orgs: [{ id: 'ops', name: 'Ops', sites }] }))
  return file
}
