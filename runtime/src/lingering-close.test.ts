import { connect } from 'node:net'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { listen } from './server.js'

/** Sends a request whose body the app refuses unread, the body 50 ms after the head; what came back, and whether before the body went. */
function refusedEarly(port: number, declared?: number): Promise<{ answer: string; beforeBody: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    let bodySent = false
    let beforeBody = false
    socket.on('data', (d: Buffer) => {
      if (!answer) beforeBody = !bodySent
      answer += d.toString()
    })
    socket.on('error', () => {})
    socket.on('close', () => resolve({ answer, beforeBody }))
    socket.on('connect', async () => {
      const framing = declared === undefined ? 'Transfer-Encoding: chunked' : `Content-Length: ${declared}`
      socket.write(`POST /refuse HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${framing}\r\n\r\n`)
      await new Promise((r) => setTimeout(r, 50))
      const body = 'x'.repeat(20_000)
      bodySent = true
      socket.write(declared === undefined ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body)
    })
  })
}

describe('lingering close', () => {
  it('reads off a refused body so the answer is not lost to a connection reset', async () => {
    const app = new Hono().post('/refuse', (c) => c.json({ error: 'unsupported_encoding', message: 'no' }, 415))
    const server = await listen(app, 0, '127.0.0.1')
    try {
      // The answer waits for the body to be read off, so closing afterwards finds no unread bytes to reset over.
      for (const declared of [undefined, 20_000]) {
        const { answer, beforeBody } = await refusedEarly(server.port, declared)
        expect(answer).toContain('unsupported_encoding')
        expect(beforeBody).toBe(false)
      }
    } finally {
      await server.close(100)
    }
  })

  it('answers at once when the declared body is past what it would read', async () => {
    const app = new Hono().post('/refuse', (c) => c.json({ error: 'body_too_large', message: 'no' }, 413))
    const server = await listen(app, 0, '127.0.0.1')
    try {
      const started = Date.now()
      const { answer, beforeBody } = await refusedEarly(server.port, 1024 ** 3)
      expect(answer).toContain('body_too_large')
      expect(beforeBody).toBe(true)
      expect(Date.now() - started).toBeLessThan(900)
    } finally {
      await server.close(100)
    }
  })
})
