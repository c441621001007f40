import type { Logger, Pseudonymize, TenantDirectory, TrustFn } from '@atspark/runtime'
import type { PrivacyStore } from '@atspark/warehouse'
import type { Registry } from 'prom-client'
import type { PrivacyApiDeps } from './api.js'
import { type RefusalOptions, RefusedAttempts } from './refusals.js'

export interface PrivacyApiRuntimeOptions {
  tenants: () => TenantDirectory
  store: PrivacyStore
  /** The pipeline's pseudonymizer (same keys as every processor), so a user id matches the user_pid stored. */
  pseudonymize: Pseudonymize
  /** A same-process pipeline's suppression set, changed at once; a separate back office leaves it to the processors' refresh. */
  suppressions: PrivacyApiDeps['suppressions']
  logger: Logger
  /** Refused privacy calls per address (BACKOFFICE_REFUSED_*); counted in `registry`. */
  refusals: Pick<RefusalOptions, 'ratePerSecond' | 'burst' | 'maxTracked'>
  /** TRUSTED_PROXIES, compiled: whose X-Forwarded-For names the caller. */
  trust: TrustFn
  registry?: Registry
  /** How often finished minutes of refusal counts go to audit_log. */
  refusalFlushMs?: number
}

export interface PrivacyApiRuntime {
  /** What createBackofficeApp mounts at /v1/privacy. */
  api: PrivacyApiDeps
  /** Stops the flush timer and writes the refusal counts still held (the current minute's too). */
  stop(): Promise<void>
}

/** The privacy API's deps, with refused calls limited per address and written to audit_log as per-minute counts. */
export function startPrivacyApi(options: PrivacyApiRuntimeOptions): PrivacyApiRuntime {
  const { store, logger } = options
  const refusals = new RefusedAttempts({ ...options.refusals, ...(options.registry ? { registry: options.registry } : {}) })
  // Counts, not rows per attempt: a failed write keeps them for the next flush.
  const flushRefusals = async (all = false) => {
    const rows = refusals.drain(all)
    if (rows.length === 0) return
    try {
      await store.audit(rows)
    } catch (err) {
      refusals.restore(rows)
      logger.warn({ err, rows: rows.length }, 'could not audit refused privacy calls; keeping the counts for the next flush')
    }
  }
  const refusalTimer = setInterval(() => void flushRefusals(), options.refusalFlushMs ?? 15_000)
  refusalTimer.unref()
  return {
    api: { tenants: options.tenants, store, pseudonymize: options.pseudonymize, suppressions: options.suppressions, logger, refusals, trust: options.trust },
    async stop() {
      clearInterval(refusalTimer)
      await flushRefusals(true)
    },
  }
}
