import type { Logger } from './logger.js'

export interface ShutdownOptions {
  /** The whole drain must finish within this; past it the process exits 1 with the work still in flight. */
  timeoutMs: number
  logger: Logger
  /** Replaced in tests; process.exit otherwise. */
  exit?: (code: number) => void
}

/**
 * On SIGTERM or SIGINT: runs `stop` (stop accepting, drain, close) and exits 0 when it finishes,
 * or 1 when it fails or has not finished within the bound. A second signal exits at once.
 */
export function exitOnSignals(stop: () => Promise<void>, options: ShutdownOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const { logger, timeoutMs } = options
  let stopping = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting for the drain')
      exit(1)
      return
    }
    stopping = true
    const started = Date.now()
    logger.info({ signal, timeout_ms: timeoutMs }, 'shutting down: no new work, draining')
    void runWithin(stop, timeoutMs).then(
      (finished) => {
        if (finished) {
          logger.info({ ms: Date.now() - started }, 'stopped cleanly')
          exit(0)
        } else {
          logger.error({ timeout_ms: timeoutMs }, 'shutdown bound reached: exiting with work still in flight')
          exit(1)
        }
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        exit(1)
      },
    )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  // The unsubscribe, for tests.
  return () => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  }
}

/** True when `work` finished within `ms`, false when the bound came first; rethrows its error. */
export async function runWithin(work: () => Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([work().then(() => true as const), bound])
  } finally {
    clearTimeout(timer)
  }
}
