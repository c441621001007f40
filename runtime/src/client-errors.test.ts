import { connect } from 'node:net'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listen, type RunningServer } from './server.js'

let server: RunningServer
const refused: [number, string][] = []

beforeAll(async () => {
  server = await listen(new Hono().get('/ok', (c) => c.text('ok')), 0, '127.0.0.1', { onRefused: (status, reason) => refused.push([status, reason]) })
})

afterAll(async () => {
  await server.close(100)
})

/** Raw bytes in, the whole answer out (the server closes after refusing). */
function raw(request: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1')
    let out = ''
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')))
    socket.on('error', reject)
    socket.on('close', () => {
      const [head = '', body = ''] = out.split('\r\n\r\n')
      resolve({ status: Number(head.slice(9, 12)), body: body ? JSON.parse(body) : undefined })
    })
    socket.write(request)
  })
}

describe('requests too broken for the app', () => {
  it.each([
    ['garbage instead of HTTP', '\u0000\u0001GARBAGE\r\n\r\n', 400, 'bad_request'],
    ['Content-Length with chunked', 'POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'bad_request'],
    ['two different Content-Lengths', 'POST /ok HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400, 'bad_request'],
    ['oversized headers', `GET /ok HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['an unusable Host', 'GET /ok HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n', 400, 'bad_request'],
  ])('answers %s with %i and a JSON reason, and reports it', async (_name, request, status, error) => {
    const before = refused.length
    const res = await raw(request)
    expect(res).toEqual({ status, body: { error, message: expect.any(String) } })
    expect(refused.slice(before)).toEqual([[status, error]])
  })
})
