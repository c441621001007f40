import type { Admin } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../logger.js'
import { KafkaHealth } from './health.js'

/** An admin double whose metadata request answers, fails or hangs as told; the real broker is exercised in test/. */
function fakeAdmin(state: { mode: 'ok' | 'fail' | 'hang' }) {
  return {
    connect: async () => {},
    disconnect: async () => {},
    fetchTopicMetadata: async () => {
      if (state.mode === 'fail') throw new Error('connect ECONNREFUSED')
      if (state.mode === 'hang') await new Promise(() => {})
      return { topics: [] }
    },
  } as unknown as Admin
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('KafkaHealth', () => {
  it('is ready while the broker answers, not while it fails or hangs, and ready again after', async () => {
    const state: { mode: 'ok' | 'fail' | 'hang' } = { mode: 'ok' }
    const health = new KafkaHealth(fakeAdmin(state), { topic: 'raw', intervalMs: 20, timeoutMs: 50, logger: createLogger('health-test', 'silent') })
    await health.start()
    expect(health.ready()).toBe(true)
    state.mode = 'fail'
    await wait(80)
    expect(health.ready()).toBe(false)
    state.mode = 'ok'
    await wait(80)
    expect(health.ready()).toBe(true)
    state.mode = 'hang'
    await wait(200)
    expect(health.ready()).toBe(false)
    await health.stop()
  })
})
