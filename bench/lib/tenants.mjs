// The one tenant every benchmark uses: a site whose write key and origin the load generator sends, consent mode
// opt-out (analytics on, so every event is kept), and a privacy-role key for the freshness probes' exports.
import { createHash, randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BENCH_ORIGIN, BENCH_WRITE_KEY } from './site.mjs'

export const BENCH_ORG = 'bench'
export const BENCH_SITE = 'web'

export function benchTenants(privacyKeyHash) {
  return {
    orgs: [
      {
        id: BENCH_ORG,
        name: 'Bench',
        api_keys: privacyKeyHash ? [{ id: 'bench-privacy', hash: privacyKeyHash, role: 'privacy' }] : [],
        sites: [{ id: BENCH_SITE, write_key: BENCH_WRITE_KEY, allowed_origins: [BENCH_ORIGIN], consent_mode: 'opt-out' }],
      },
    ],
  }
}

/** Writes tenants.json and an IP keys env into `dir`; returns the env both services need and the privacy key. */
export function writeBenchConfig(dir) {
  const privacyKey = `sk_${randomBytes(24).toString('base64url')}`
  const tenantsFile = join(dir, 'tenants.json')
  writeFileSync(tenantsFile, JSON.stringify(benchTenants(createHash('sha256').update(privacyKey).digest('hex'))))
  const ipKey = randomBytes(32).toString('base64')
  return {
    privacyKey,
    env: {
      ATSPARK_TENANTS_FILE: tenantsFile,
      ATSPARK_IP_KEYS: `b1:${ipKey}`,
      ATSPARK_IP_KEY_ACTIVE: 'b1',
      ATSPARK_HMAC_SECRET: randomBytes(32).toString('base64'),
      // The load generator sends each visitor's address in X-Forwarded-For, as a proxy on loopback would.
      TRUSTED_PROXIES: 'loopback',
      LOG_LEVEL: 'warn',
    },
  }
}
