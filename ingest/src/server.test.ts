import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { listen } from './server.js'

describe('listen', () => {
  it('finishes an in-flight request on close and tells the client to hang up', async () => {
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const app = new Hono().get('/slow', async (c) => {
      await held
      return c.text('done')
    })
    const server = await listen(app, 0, '127.0.0.1')
    const pending = fetch(`http://127.0.0.1:${server.port}/slow`)
    await new Promise((r) => setTimeout(r, 50))
    const closed = server.close()
    release()
    const res = await pending
    expect(await res.text()).toBe('done')
    expect(res.headers.get('connection')).toBe('close')
    await closed
    await expect(fetch(`http://127.0.0.1:${server.port}/slow`)).rejects.toThrow()
  })
})
