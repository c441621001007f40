import { describe, expect, it } from 'vitest'
import { WarehouseFailpoint } from './failpoints.js'

describe('WarehouseFailpoint', () => {
  it('is inert and cannot be switched when disabled', async () => {
    const fp = new WarehouseFailpoint(false)
    await expect(fp.beforeWrite()).resolves.toBeUndefined()
    expect(() => fp.set('fail')).toThrow(/disabled/)
  })

  it('fails writes while on, and lets them through when off', async () => {
    const fp = new WarehouseFailpoint(true)
    fp.set('fail')
    await expect(fp.beforeWrite()).rejects.toThrow(/failpoint/)
    fp.set('off')
    await expect(fp.beforeWrite()).resolves.toBeUndefined()
  })

  it('stalls writes until released', async () => {
    const fp = new WarehouseFailpoint(true)
    fp.set('stall')
    let done = false
    const write = fp.beforeWrite().then(() => (done = true))
    await new Promise((r) => setTimeout(r, 20))
    expect(done).toBe(false)
    fp.set('off')
    await write
    expect(done).toBe(true)
  })
})
