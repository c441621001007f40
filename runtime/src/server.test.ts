import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { readIncoming } from './body-reader.js'
import { IngestError } from './errors.js'
import { listen } from './server.js'

/** Writes `head` on a raw connection (then one body byte every 100 ms when `trickle`); resolves with what came back and when the server closed it. */
function rawExchange(port: number, head: string, trickle = false): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = performance.now()
    let answer = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(head))
    const timer = trickle ? setInterval(() => socket.writable && socket.write('x'), 100) : undefined
    socket.on('data', (d) => (answer += d.toString()))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      resolve({ answer, closedAfterMs: performance.now() - started })
    })
  })
}

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

  it('closes a connection whose headers never finish within the headers timeout, not at the next 30 s check', async () => {
    const server = await listen(new Hono(), 0, '127.0.0.1', { requestTimeoutMs: 1_000 })
    try {
      const { answer, closedAfterMs } = await rawExchange(server.port, 'POST /v1/batch HTTP/1.1\r\nHost: x\r\n')
      expect(answer).toMatch(/^HTTP\/1.1 408 /)
      expect(answer).toContain('request_timeout')
      // Headers bound 1 s, checked every second: closed within about 2 s (plus the 2 s the answer lingers).
      expect(closedAfterMs).toBeLessThan(5_000)
    } finally {
      await server.close(0)
    }
  })

  it('answers a body that misses its deadline 408 body_timeout and hangs up on its sender', async () => {
    const app = new Hono<{ Bindings: { incoming: IncomingMessage } }>().post('/', async (c) => {
      try {
        return c.json({ read: (await readIncoming(c.env.incoming, 10_000)).length })
      } catch (err) {
        if (err instanceof IngestError) return c.json({ error: err.code }, err.status)
        throw err
      }
    })
    const server = await listen(app as unknown as Hono, 0, '127.0.0.1', { bodyTimeoutMs: 500 })
    try {
      const { answer, closedAfterMs } = await rawExchange(server.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', true)
      expect(answer).toMatch(/^HTTP\/1.1 408 /)
      expect(answer).toContain('body_timeout')
      expect(answer.toLowerCase()).toContain('connection: close')
      // The deadline, then at most the 1 s lingering read before the answer goes out and the socket is closed.
      expect(closedAfterMs).toBeLessThan(3_000)
    } finally {
      await server.close(0)
    }
  })
})
