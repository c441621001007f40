import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { batch, CHROME_WINDOWS_UA, event } from './support/batches.js'
import { freePort } from './support/ports.js'
import { ENTRY } from './support/service.js'
import { SITE_ORIGIN, writeTenantsFile } from './support/tenants-file.js'

// The edge under slow and hostile clients (issue 13, items 6 and 7), against the built embedded pipeline
// on loopback. Attackers use 127.0.0.2 and up as source addresses (all of 127/8 is loopback on Linux);
// the well-behaved client is 127.0.0.1. Nothing is trusted as a proxy and loopback is not exempt from the
// per-address limits, so each source address counts as one client.

const KEY = 'pk_edge_slow'

interface Pipeline {
  port: number
  backoffice: string
  output: () => string
  stop: () => Promise<void>
}

let running: Pipeline | undefined
const attack: Socket[] = []
afterEach(async () => {
  for (const s of attack.splice(0)) s.destroy()
  await running?.stop()
  running = undefined
})

/**
 * Starts `node server/dist/main.js` with exactly `env`, under `ulimit -n` when `openFiles` is
 * given (soft and hard, so Node cannot raise it), and waits until ingest and the back office answer.
 */
async function startEmbedded(env: Record<string, string>, openFiles?: number): Promise<Pipeline> {
  const [port, backofficePort, demoPort] = [await freePort(), await freePort(), await freePort()]
  const fullEnv = {
    PATH: process.env.PATH ?? '',
    INGEST_PORT: String(port),
    BACKOFFICE_PORT: String(backofficePort),
    DEMO_PORT: String(demoPort),
    ATSPARK_DATA_DIR: mkdtempSync(join(tmpdir(), 'atspark-edge-slow-')),
    ATSPARK_TENANTS_FILE: writeTenantsFile([KEY]),
    DEMO_TRAFFIC: '0',
    LOG_LEVEL: 'info',
    // Every source address is a client of its own: no proxy is trusted, loopback is not exempt.
    TRUSTED_PROXIES: '',
    RATE_LIMIT_ADDRESS_EXEMPT: '',
    ...env,
  }
  const child: ChildProcess =
    openFiles === undefined
      ? spawn(process.execPath, [ENTRY.embedded], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', `ulimit -n ${openFiles} && exec "$0" "$1"`, process.execPath, ENTRY.embedded], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const backoffice = `http://127.0.0.1:${backofficePort}`
  const deadline = Date.now() + 60_000
  for (const url of [`http://127.0.0.1:${port}/healthz`, `${backoffice}/readyz`]) {
    while (!(await fetch(url).then((r) => r.ok, () => false))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`embedded pipeline not up at ${url}:\n${output.slice(-3000)}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    port,
    backoffice,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const killer = setTimeout(() => child.kill('SIGKILL'), 20_000)
        child.kill('SIGTERM')
        await exited
        clearTimeout(killer)
      }
    },
  }
}

/** One small valid batch from the well-behaved client; its status, or 0 when the connection failed. */
function goodPost(port: number, agent?: Agent): Promise<number> {
  const body = JSON.stringify(batch([event()], { k: KEY }))
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        localAddress: '127.0.0.1',
        port,
        path: '/v1/batch',
        method: 'POST',
        agent: agent ?? false,
        headers: { 'content-type': 'application/json', origin: SITE_ORIGIN, 'user-agent': CHROME_WINDOWS_UA, 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      },
    )
    req.on('error', () => resolve(0))
    req.on('timeout', () => req.destroy())
    req.end(body)
  })
}

/** The well-behaved client sends one batch every `everyMs` until `untilMs` (epoch ms); every status, in order. */
async function goodClient(port: number, untilMs: number, everyMs: number, agent?: Agent): Promise<number[]> {
  const statuses: number[] = []
  while (Date.now() < untilMs) {
    const next = Date.now() + everyMs
    statuses.push(await goodPost(port, agent))
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())))
  }
  return statuses
}

interface Attacker {
  socket: Socket
  /** Everything the server wrote back. */
  answer: () => string
  /** performance.now() when the server closed it, or undefined while open. */
  closedAt: () => number | undefined
}

/** Opens a connection from `localAddress` and writes `head` (and nothing more unless the caller does). */
function openAttacker(port: number, localAddress: string, head: string): Promise<Attacker> {
  return new Promise((resolve) => {
    let answer = ''
    let closedAt: number | undefined
    const socket = connect({ host: '127.0.0.1', port, localAddress })
    attack.push(socket)
    socket.on('data', (d: Buffer) => (answer += d.toString()))
    socket.on('error', () => {})
    socket.on('close', () => (closedAt ??= performance.now()))
    const attacker = { socket, answer: () => answer, closedAt: () => closedAt }
    socket.once('connect', () => {
      socket.write(head)
      resolve(attacker)
    })
    // Refused before the handshake completed (the listen backlog): already closed.
    socket.once('close', () => resolve(attacker))
  })
}

/** Opens `perAddress` connections from each address, a few hundred at a time. */
async function openMany(port: number, addresses: readonly string[], perAddress: number, head: string): Promise<Attacker[]> {
  const all: Attacker[] = []
  for (let i = 0; i < perAddress; i += 50) {
    const wave = addresses.flatMap((a) => Array.from({ length: Math.min(50, perAddress - i) }, () => openAttacker(port, a, head)))
    all.push(...(await Promise.all(wave)))
  }
  return all
}

function tally(values: readonly (number | string)[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1
  return out
}

/** The status code and error code of a raw HTTP answer ('' when none came). */
function parseAnswer(raw: string): string {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]
  if (!status) return ''
  const code = /"error":"([a-z_]+)"/.exec(raw)?.[1]
  return code ? `${status} ${code}` : status
}

async function metric(backoffice: string, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${backoffice}/metrics`)).text()
  return Number(pattern.exec(text)?.[1] ?? 0)
}

const SLOW_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'] as const
const SLOW_HEAD = `POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nOrigin: ${SITE_ORIGIN}\r\nContent-Length: 2000\r\n\r\n`
/** Headers that never finish. */
const UNFINISHED_HEAD = 'POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'

describe('slow uploads (issue 13, item 6)', () => {
  it('1,100 uploads of 1 byte every 2 s from 6 addresses lose their own requests; another address is served throughout', async () => {
    // Default bounds: 1,024 in flight, 32 per address, bodies within 10 s; every attacking address is inside its rate burst (200).
    running = await startEmbedded({})
    const { port } = running
    const started = performance.now()
    const slow = await openMany(port, SLOW_ADDRESSES, Math.ceil(1_100 / SLOW_ADDRESSES.length), SLOW_HEAD)
    const trickle = setInterval(() => {
      for (const a of slow) if (a.closedAt() === undefined && a.socket.writable) a.socket.write('[')
    }, 2_000)
    try {
      // Served throughout: from before the body deadline of the admitted uploads until after it.
      const statuses = await goodClient(port, Date.now() + 13_000, 250)
      const answers = slow.map((a) => parseAnswer(a.answer()))
      console.log(`slow uploads: ${slow.length} opened, answers ${JSON.stringify(tally(answers))}; well-behaved client ${JSON.stringify(tally(statuses))} over ${((performance.now() - started) / 1000).toFixed(1)} s`)
      expect(statuses.length).toBeGreaterThanOrEqual(20)
      expect(tally(statuses)).toEqual({ 202: statuses.length })
      // Each slow upload lost its own request with a reason: over its address's share at once, or at its body deadline.
      expect(slow.length).toBe(1_104)
      expect(answers.filter((a) => a !== '429 too_many_in_flight' && a !== '408 body_timeout')).toEqual([])
      expect(answers.filter((a) => a === '408 body_timeout').length).toBeLessThanOrEqual(SLOW_ADDRESSES.length * 32)
      expect(slow.every((a) => a.closedAt() !== undefined)).toBe(true)
      expect(await metric(running.backoffice, /atspark_ingest_requests_total\{status="408",reason="body_timeout"\} (\d+)/)).toBeGreaterThan(0)
      expect(await metric(running.backoffice, /atspark_ingest_requests_total\{status="429",reason="too_many_in_flight"\} (\d+)/)).toBeGreaterThan(0)
    } finally {
      clearInterval(trickle)
    }
  }, 30_000)
})

describe('connection floods with unfinished headers (issue 13, item 7)', () => {
  // With `ulimit -n 1536` the derived bound is 1536 − min(INGEST_FD_RESERVE 1024, 768) = 768 connections; 1,800 would exhaust the descriptors.
  const OPEN_FILES = 1_536
  const DERIVED_BOUND = 768

  it('1,800 connections from two addresses: each held to its share, the warehouse keeps its descriptors, another address is served throughout', async () => {
    running = await startEmbedded({}, OPEN_FILES)
    const { port } = running
    const flood = openMany(port, ['127.0.0.2', '127.0.0.3'], 900, UNFINISHED_HEAD)
    const statuses = await goodClient(port, Date.now() + 12_000, 250)
    const attackers = await flood
    console.log(`per-address flood: ${attackers.length} opened; well-behaved client ${JSON.stringify(tally(statuses))}`)
    expect(statuses.length).toBeGreaterThanOrEqual(20)
    expect(tally(statuses)).toEqual({ 202: statuses.length })
    // The bound came from the open-file limit, as without INGEST_MAX_CONNECTIONS in production.
    expect(running.output()).toContain(`"maxConnections":${DERIVED_BOUND},"source":"derived","fileLimit":${OPEN_FILES}`)
    const refused = await metric(running.backoffice, /atspark_ingest_connections_refused_total\{reason="per_address"\} (\d+)/)
    // The default share is 256 per address; the rest were closed on accept and counted.
    expect(refused).toBeGreaterThanOrEqual(1_800 - 2 * 256)
  }, 30_000)

  it('1,800 connections from 40 addresses fill the total bound, not the descriptors: held requests keep landing, and unfinished headers are cut at the headers timeout', async () => {
    // Headers within 4 s (the shorter of 10 s and the request bound), checked every second.
    running = await startEmbedded({ INGEST_REQUEST_TIMEOUT_MS: '4000' }, OPEN_FILES)
    const { port } = running
    // The well-behaved client holds one keep-alive connection from before the flood: the total bound refuses new connections for everyone.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      expect(await goodPost(port, agent)).toBe(202)
      const addresses = Array.from({ length: 40 }, (_, i) => `127.0.0.${10 + i}`)
      const opened = performance.now()
      const flood = openMany(port, addresses, 45, UNFINISHED_HEAD)
      const statuses = await goodClient(port, Date.now() + 10_000, 250, agent)
      const attackers = await flood
      const accepted = attackers.filter((a) => a.answer() !== '')
      const lastClose = Math.max(...attackers.map((a) => a.closedAt() ?? Number.POSITIVE_INFINITY))
      console.log(
        `total flood: ${attackers.length} opened, ${accepted.length} answered ${JSON.stringify(tally(accepted.map((a) => parseAnswer(a.answer()))))}, all closed ${((lastClose - opened) / 1000).toFixed(1)} s after the flood began; well-behaved client ${JSON.stringify(tally(statuses))}`,
      )
      expect(statuses.length).toBeGreaterThanOrEqual(20)
      expect(tally(statuses)).toEqual({ 202: statuses.length })
      expect(await metric(running.backoffice, /atspark_ingest_connections_refused_total\{reason="total"\} (\d+)/)).toBeGreaterThan(0)
      expect(accepted.length).toBeLessThanOrEqual(DERIVED_BOUND)
      expect(accepted.every((a) => parseAnswer(a.answer()) === '408 request_timeout')).toBe(true)
      // 4 s for headers, up to 1 s until the check, 2 s for the answer to be read: well before Node's 30 s default check.
      expect(lastClose - opened).toBeLessThan(10_000)
      // Once the flood is gone, new connections are served again.
      expect(await goodPost(port)).toBe(202)
    } finally {
      agent.destroy()
    }
  }, 30_000)
})
