import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.js'
import { exitOnSignals, runWithin } from './shutdown.js'

const logger = createLogger('shutdown-test', 'silent')

describe('runWithin', () => {
  it('says whether the work finished within the bound, and rethrows its error', async () => {
    expect(await runWithin(() => new Promise((r) => setTimeout(r, 10)), 500)).toBe(true)
    const started = Date.now()
    expect(await runWithin(() => new Promise(() => {}), 100)).toBe(false)
    expect(Date.now() - started).toBeLessThan(400)
    await expect(runWithin(() => Promise.reject(new Error('broken')), 500)).rejects.toThrow('broken')
  })
})

describe('exitOnSignals', () => {
  const signalled = (stop: () => Promise<void>, timeoutMs: number) =>
    new Promise<{ code: number; ms: number }>((resolve) => {
      const started = Date.now()
      const off = exitOnSignals(stop, {
        timeoutMs,
        logger,
        exit: (code) => {
          off()
          resolve({ code, ms: Date.now() - started })
        },
      })
      process.emit('SIGTERM', 'SIGTERM')
    })

  it('exits 0 once the drain finishes', async () => {
    expect((await signalled(() => new Promise((r) => setTimeout(r, 20)), 1_000)).code).toBe(0)
  })

  it('exits 1 at the bound when the drain hangs', async () => {
    const { code, ms } = await signalled(() => new Promise(() => {}), 150)
    expect(code).toBe(1)
    expect(ms).toBeGreaterThanOrEqual(140)
    expect(ms).toBeLessThan(1_000)
  })

  it('exits 1 when the drain fails', async () => {
    expect((await signalled(() => Promise.reject(new Error('x')), 1_000)).code).toBe(1)
  })
})
