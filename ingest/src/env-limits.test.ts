import { describe, expect, it } from 'vitest'
import { parseIngestEnv } from './env.js'

describe('ingest env: limits, overload and shutdown', () => {
  it('has defaults for every limit', () => {
    const env = parseIngestEnv({})
    expect(env).toMatchObject({
      RATE_LIMIT_KEY_RPS: 1000,
      RATE_LIMIT_KEY_BURST: 2000,
      RATE_LIMIT_KEY_ADDRESS_SHARE: 0.05,
      RATE_LIMIT_ADDRESS_RPS: 100,
      RATE_LIMIT_ADDRESS_BURST: 200,
      RATE_LIMIT_ADDRESS_EXEMPT: ['loopback'],
      RATE_LIMIT_MAX_TRACKED: 100_000,
      INGEST_MAX_INFLIGHT: 1024,
      INGEST_REQUEST_TIMEOUT_MS: 30_000,
      BUS_SITE_QUEUE_SHARE: 0.5,
      SHUTDOWN_TIMEOUT_MS: 20_000,
      KAFKA_HEALTH_INTERVAL_MS: 2_000,
      TRUSTED_PROXIES: [],
    })
  })

  it('reads lists and turns limits off with 0 and exemptions off with an empty value', () => {
    const env = parseIngestEnv({ RATE_LIMIT_KEY_RPS: '0', RATE_LIMIT_ADDRESS_EXEMPT: '', TRUSTED_PROXIES: '10.0.0.0/8, loopback' })
    expect(env.RATE_LIMIT_KEY_RPS).toBe(0)
    expect(env.RATE_LIMIT_ADDRESS_EXEMPT).toEqual([])
    expect(env.TRUSTED_PROXIES).toEqual(['10.0.0.0/8', 'loopback'])
  })

  it.each([
    ['RATE_LIMIT_ADDRESS_EXEMPT', '10.0.0.0/99'],
    ['TRUSTED_PROXIES', 'not-a-proxy'],
    ['RATE_LIMIT_KEY_RPS', '-1'],
    ['RATE_LIMIT_KEY_BURST', '0'],
    ['RATE_LIMIT_KEY_ADDRESS_SHARE', '0'],
    ['RATE_LIMIT_KEY_ADDRESS_SHARE', '1.5'],
    ['BUS_SITE_QUEUE_SHARE', '0'],
    ['BUS_SITE_QUEUE_SHARE', '1.5'],
    ['INGEST_MAX_INFLIGHT', 'lots'],
    ['SHUTDOWN_TIMEOUT_MS', '10'],
  ])('refuses %s=%s, naming it', (name, value) => {
    expect(() => parseIngestEnv({ [name]: value })).toThrow(name)
  })
})
