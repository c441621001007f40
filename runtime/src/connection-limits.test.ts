import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type ConnectionLimits, connectionBound, exemptAddresses, limitConnections, openFileLimit } from './connection-limits.js'

let server: Server | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  server?.closeAllConnections()
  await new Promise((r) => server?.close(r) ?? r(undefined))
  server = undefined
})

async function serve(limits: ConnectionLimits): Promise<number> {
  server = createServer((_req, res) => res.end('ok'))
  limitConnections(server, limits)
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r))
  return (server.address() as { port: number }).port
}

/** Opens a connection from `localAddress` and reports, after a moment, whether the server has closed it. */
async function openFrom(port: number, localAddress: string): Promise<{ closed: () => boolean }> {
  let closed = false
  const socket = connect({ port, host: '127.0.0.1', localAddress })
  sockets.push(socket)
  socket.on('error', () => {})
  socket.on('close', () => (closed = true))
  await new Promise((r) => socket.once('connect', r))
  return { closed: () => closed }
}

const settle = () => new Promise((r) => setTimeout(r, 150))

describe('limitConnections', () => {
  it('closes connections past the per-address bound at once, not its neighbours', async () => {
    const refused: string[] = []
    const open: number[] = []
    const port = await serve({ maxPerAddress: 3, onRefused: (r) => refused.push(r), onOpenChange: (n) => open.push(n) })
    const flood = []
    for (let i = 0; i < 5; i++) flood.push(await openFrom(port, '127.0.0.2'))
    const neighbour = await openFrom(port, '127.0.0.3')
    await settle()
    expect(flood.map((c) => c.closed())).toEqual([false, false, false, true, true])
    expect(neighbour.closed()).toBe(false)
    expect(refused).toEqual(['per_address', 'per_address'])
    expect(open.at(-1)).toBe(4)
    // A closed connection gives its place back.
    sockets[0]?.destroy()
    await settle()
    expect((await openFrom(port, '127.0.0.2')).closed()).toBe(false)
  })

  it('lets exempt peers (trusted proxies) past the per-address bound, and holds the total bound for all', async () => {
    const refused: string[] = []
    const exempt = exemptAddresses((addr) => addr === '127.0.0.9')
    const port = await serve({ maxPerAddress: 1, maxConnections: 4, exempt, onRefused: (r) => refused.push(r) })
    const proxy = []
    for (let i = 0; i < 4; i++) proxy.push(await openFrom(port, '127.0.0.9'))
    const late = await openFrom(port, '127.0.0.4')
    await settle()
    expect(proxy.map((c) => c.closed())).toEqual([false, false, false, false])
    expect(late.closed()).toBe(true)
    expect(refused).toEqual(['total'])
  })
})

describe('connectionBound', () => {
  it('takes INGEST_MAX_CONNECTIONS when set, else the open-file limit minus the reserve, the reserve at most half', () => {
    expect(connectionBound(500, 20_000, 1_024)).toMatchObject({ maxConnections: 500, source: 'configured' })
    expect(connectionBound(undefined, 20_000, 1_024)).toMatchObject({ maxConnections: 18_976, source: 'derived', reserve: 1_024 })
    expect(connectionBound(undefined, 1_024, 1_024)).toMatchObject({ maxConnections: 512, source: 'derived', reserve: 512 })
    expect(connectionBound(undefined, undefined, 1_024)).toMatchObject({ maxConnections: undefined, source: 'unknown_limit' })
  })
})

describe('openFileLimit', () => {
  it('reads the soft limit from /proc, and agrees with what a child shell inherits', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atspark-limits-'))
    const file = join(dir, 'limits')
    writeFileSync(file, 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            2048                 4096                 files\n')
    expect(openFileLimit(file)).toBe(2048)
    const shell = Number(spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim())
    expect(openFileLimit()).toBe(shell)
    expect(openFileLimit(join(dir, 'missing'))).toBe(shell)
  })
})
