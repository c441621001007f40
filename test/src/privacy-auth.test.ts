import { createHash } from 'node:crypto'
import { connect } from 'node:net'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

// Wrong-key privacy calls: refused on the header alone (no body read, no subject kept), limited per
// address past a burst (429 + Retry-After), and audited as counts per address prefix and minute.

const BURST = 8
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
const CHOSEN = 'victim@example.com'
const GUESSER = '198.51.100.7'
const GUESSER_V6 = '2001:db8:4242:7::1'
const HONEST = '192.0.2.44'

let pipeline: RunningPipeline
let warehouse: ClickHouseClient | undefined
let privacyKey = ''
const statuses: number[] = []
const honest: number[] = []
let retryAfter: string | null = null
let heldBodyAnswer = ''
let heldBodyMs = 0

/** Sends headers promising a 1 KiB body and 10 bytes of it, then waits: a server that reads the body before the key hangs. */
function heldBodyCall(port: number, token: string): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `POST /v1/privacy/erase HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1024\r\nX-Forwarded-For: 203.0.113.200\r\n\r\n{"user_id"`,
      )
    })
    let text = ''
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ text, ms: Date.now() - started })
    }, 5_000)
    socket.on('data', (d) => {
      text += d.toString()
      if (text.includes('\r\n\r\n')) {
        clearTimeout(timer)
        socket.destroy()
        resolve({ text, ms: Date.now() - started })
      }
    })
    socket.on('error', reject)
  })
}

async function call(address: string, token: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { 'x-forwarded-for': address }
  if (token) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  return fetch(`${pipeline.backoffice}/v1/privacy/${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
}

beforeAll(async () => {
  // A slow refill, so the test sees the burst end before a token comes back.
  pipeline = await startPipeline({ BACKOFFICE_REFUSED_BURST: String(BURST), BACKOFFICE_REFUSED_RPS: '0.05' })
  privacyKey = pipeline.output().match(/demo privacy key\s+(sk_[A-Za-z0-9_-]+)/)?.[1] ?? ''
  const port = Number(new URL(pipeline.backoffice).port)
  const held = await heldBodyCall(port, 'sk_wrong_key_with_a_body_still_coming')
  heldBodyAnswer = held.text
  heldBodyMs = held.ms
  for (let i = 0; i < BURST + 4; i++) {
    const res = await call(GUESSER, `sk_guess_${i}`, 'POST', 'erase', { user_id: CHOSEN })
    statuses.push(res.status)
    if (res.status === 429) retryAfter = res.headers.get('retry-after')
    await res.arrayBuffer()
    // A key holder on another address is served all along.
    const ok = await call(HONEST, privacyKey, 'GET', 'requests')
    honest.push(ok.status)
    await ok.arrayBuffer()
  }
  for (let i = 0; i < 3; i++) await (await call(GUESSER_V6, undefined, 'GET', `export?user_id=${encodeURIComponent(CHOSEN)}`)).arrayBuffer()
  expect(await pipeline.stop()).toBe(0)
  warehouse = openWarehouse(pipeline.dataDir)
})

afterAll(async () => {
  await warehouse?.close()
  await pipeline?.stop()
})

interface AuditOut {
  time: string
  actor_key_id: string
  action: string
  subject_hash: string
  result: string
  detail: string
}

describe('refused privacy calls', () => {
  it('are answered 401 from the headers alone, while the body is still on its way', () => {
    expect(privacyKey).toMatch(/^sk_/)
    expect(heldBodyAnswer).toMatch(/^HTTP\/1\.1 401/)
    expect(heldBodyMs).toBeLessThan(4_000)
  })

  it('are limited per address past the burst: 429 with Retry-After, and a key holder elsewhere is served throughout', () => {
    expect(statuses.slice(0, BURST)).toEqual(Array(BURST).fill(401))
    expect(statuses.slice(BURST)).toEqual(Array(4).fill(429))
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1)
    expect(honest).toEqual(Array(BURST + 4).fill(200))
  })

  it('leave per-minute counts per address prefix (/24, /48), never a row per attempt nor a subject', async () => {
    const refused = await rows<AuditOut>(
      warehouse!,
      `SELECT toString(time) AS time, actor_key_id, action, subject_hash, result, detail FROM atspark.audit_log
       WHERE result IN ('unauthorized', 'forbidden', 'rate_limited') ORDER BY time, action, result`,
    )
    const tally = (prefix: string, result: string) =>
      refused.filter((r) => JSON.parse(r.detail).address_prefix === prefix && r.result === result).reduce((n, r) => n + JSON.parse(r.detail).attempts, 0)
    expect(tally('198.51.100.0/24', 'unauthorized')).toBe(BURST)
    expect(tally('198.51.100.0/24', 'rate_limited')).toBe(4)
    expect(tally('2001:db8:4242::/48', 'unauthorized')).toBe(3)
    expect(tally('203.0.113.0/24', 'unauthorized')).toBe(1)
    // A minute boundary may split a tally in two, never more: 4 (prefix, result) pairs, at most 8 rows.
    expect(refused.length).toBeLessThanOrEqual(8)
    for (const r of refused) {
      expect(r.subject_hash).toBe('')
      expect(r.actor_key_id).toBe('unknown')
      expect(r.time).toMatch(/:00(\.000)?$/)
    }
    const [leak] = await rows<{ n: string }>(warehouse!, `SELECT count() AS n FROM atspark.audit_log WHERE subject_hash = '${sha256(CHOSEN)}' OR position(detail, 'victim') > 0`)
    expect(leak?.n).toBe('0')
  })

  it('still audit allowed calls one by one', async () => {
    const [allowed] = await rows<{ n: string }>(warehouse!, `SELECT count() AS n FROM atspark.audit_log WHERE action = 'privacy.requests' AND result = 'ok'`)
    expect(Number(allowed?.n)).toBe(BURST + 4)
  })
})
