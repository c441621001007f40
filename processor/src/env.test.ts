import { describe, expect, it } from 'vitest'
import { parseProcessorEnv } from './env.js'

const IP_KEYS = { ATSPARK_IP_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` }

describe('processor env: PROCESSOR_VISIT_CACHE_MAX', () => {
  it('defaults to 200000 visits and takes a whole number from 1000 up', () => {
    expect(parseProcessorEnv({ ...IP_KEYS }).PROCESSOR_VISIT_CACHE_MAX).toBe(200_000)
    expect(parseProcessorEnv({ ...IP_KEYS, PROCESSOR_VISIT_CACHE_MAX: '1000' }).PROCESSOR_VISIT_CACHE_MAX).toBe(1_000)
  })

  it.each(['999', '0', '-5', '2.5', 'lots'])('refuses %s, naming the variable', (value) => {
    expect(() => parseProcessorEnv({ ...IP_KEYS, PROCESSOR_VISIT_CACHE_MAX: value })).toThrow(/invalid processor environment[\s\S]*PROCESSOR_VISIT_CACHE_MAX/)
  })
})
