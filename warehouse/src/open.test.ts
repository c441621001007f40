import { describe, expect, it } from 'vitest'
import { WarehouseEnv } from './env.js'
import { writesDataDir } from './open.js'

describe('writesDataDir', () => {
  const env = (vars: Record<string, string>) => WarehouseEnv.parse(vars)
  const secret = 'x'.repeat(32)

  it('is true while chDB or a generated pseudonym key lives in the data dir, false only with a server and a given key', () => {
    expect(writesDataDir(env({}))).toBe(true)
    expect(writesDataDir(env({ ATSPARK_HMAC_SECRET: secret }))).toBe(true)
    expect(writesDataDir(env({ CLICKHOUSE_URL: 'http://127.0.0.1:8123' }))).toBe(true)
    expect(writesDataDir(env({ CLICKHOUSE_URL: 'http://127.0.0.1:8123', ATSPARK_HMAC_SECRET: secret }))).toBe(false)
  })
})
