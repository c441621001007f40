import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { SITE_ORIGIN, writeTenantsFile } from './support/tenants-file.js'

const NOISY = 'pk_noisy_site'
const QUIET = 'pk_quiet_site'
/** One key per phase of the address test, so the write-key limit never answers for the address limit. */
const ADDR = ['pk_addr_a', 'pk_addr_b', 'pk_addr_c'] as const

interface Answer {
  status: number
  retryAfter: string | null
  body: { error?: string; limit?: string }
}

async function send(ingest: string, writeKey: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await post(ingest, batch([event()], { k: writeKey }), { origin: SITE_ORIGIN, headers })
  const body = (await res.json().catch(() => ({}))) as Answer['body']
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body }
}

function tally(answers: Answer[]): Record<number, number> {
  const out: Record<number, number> = {}
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1
  return out
}

describe('abuse at the edge (embedded pipeline, loopback as the trusted proxy)', () => {
  let pipeline: RunningPipeline
  beforeAll(async () => {
    pipeline = await startPipeline({
      ATSPARK_TENANTS_FILE: writeTenantsFile([NOISY, QUIET, ...ADDR]),
      // Low enough that even a slow, busy machine floods past it.
      RATE_LIMIT_KEY_RPS: '2',
      RATE_LIMIT_KEY_BURST: '5',
      RATE_LIMIT_ADDRESS_RPS: '1',
      RATE_LIMIT_ADDRESS_BURST: '3',
    })
  })
  afterAll(async () => {
    expect(await pipeline.stop()).toBe(0)
  })

  it('a key flooding the endpoint gets 429s naming the write-key limit while another key keeps succeeding', async () => {
    const started = Date.now()
    const noisy: Answer[] = []
    const quiet: Answer[] = []
    let flooding = true
    // Eight connections flood one key from loopback (exempt from the address limit), as fast as answers come.
    const flood = Array.from({ length: 8 }, async () => {
      while (Date.now() - started < 4_000) noisy.push(await send(pipeline.ingest, NOISY))
    })
    // The quiet site sends about 1.4 requests/s, under its own limit of 2/s.
    const steady = (async () => {
      while (flooding) {
        quiet.push(await send(pipeline.ingest, QUIET))
        await new Promise((r) => setTimeout(r, 700))
      }
    })()
    await Promise.all(flood)
    flooding = false
    await steady
    const seconds = (Date.now() - started) / 1000
    console.log(`flood: noisy ${JSON.stringify(tally(noisy))} in ${seconds.toFixed(1)} s; quiet ${JSON.stringify(tally(quiet))}`)

    // However slow the flood makes answers on a busy machine, every one of the quiet site's requests got in.
    expect(quiet.length).toBeGreaterThanOrEqual(3)
    expect(tally(quiet)).toEqual({ 202: quiet.length })
    const refused = noisy.filter((a) => a.status === 429)
    expect(refused.length).toBeGreaterThan(noisy.length / 2)
    expect(new Set(noisy.map((a) => a.status))).toEqual(new Set([202, 429]))
    for (const a of refused) {
      expect(a.body).toMatchObject({ error: 'rate_limited', limit: 'write_key' })
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1)
    }
    // The bucket's promise: the burst plus the rate over the run, and no more.
    const accepted = noisy.length - refused.length
    expect(accepted).toBeLessThanOrEqual(5 + 2 * seconds + 1)
    expect(accepted).toBeGreaterThanOrEqual(5)
  })

  it('limits per client address as X-Forwarded-For names it behind the trusted proxy: one client throttled, its neighbour not', async () => {
    // The address limit (burst 3, then 1/s) is the one under test.
    const burstThenRate = (since: number) => 3 + (Date.now() - since) / 1000 + 1
    let since = Date.now()
    const flooder: Answer[] = []
    for (let i = 0; i < 12; i++) flooder.push(await send(pipeline.ingest, ADDR[0], { 'x-forwarded-for': '198.51.100.10' }))
    const flooderBound = burstThenRate(since)
    const neighbour = await send(pipeline.ingest, ADDR[1], { 'x-forwarded-for': '198.51.100.11' })
    // An IPv6 client rotating addresses inside its /64 is still one client.
    since = Date.now()
    const v6: Answer[] = []
    for (let i = 1; i <= 8; i++) v6.push(await send(pipeline.ingest, ADDR[2], { 'x-forwarded-for': `2001:db8:7:7::${i.toString(16)}` }))
    const v6Bound = burstThenRate(since)
    console.log(`address limit: one client ${JSON.stringify(tally(flooder))}, its neighbour ${neighbour.status}, one /64 rotating ${JSON.stringify(tally(v6))}`)
    expect(tally(flooder)[202]).toBeLessThanOrEqual(flooderBound)
    expect(tally(flooder)[429]).toBeGreaterThan(0)
    expect(flooder.find((a) => a.status === 429)?.body).toMatchObject({ error: 'rate_limited', limit: 'client_address' })
    expect(neighbour.status).toBe(202)
    expect(tally(v6)[202] ?? 0).toBeLessThanOrEqual(v6Bound)
    expect(tally(v6)[429]).toBeGreaterThan(0)
  })

  it('truncates a hostile user agent at the edge and still answers at once', async () => {
    const hostile = `Mozilla/5.0 (${'Windows NT 10.0; '.repeat(400)}) ${' '.repeat(1_000)}x`
    const started = performance.now()
    await new Promise((r) => setTimeout(r, 1_000))
    const res = await post(pipeline.ingest, batch([event()], { k: QUIET }), { origin: SITE_ORIGIN, headers: { 'user-agent': hostile } })
    expect(res.status).toBe(202)
    expect(performance.now() - started).toBeLessThan(2_000)
  })
})

describe('X-Forwarded-For from a peer that is not a trusted proxy', () => {
  it('is ignored: rotating it does not escape the per-address limit', async () => {
    const pipeline = await startPipeline({
      ATSPARK_TENANTS_FILE: writeTenantsFile([NOISY]),
      // Nobody is trusted, and loopback is not exempt: every request here is the loopback client.
      TRUSTED_PROXIES: '',
      RATE_LIMIT_ADDRESS_EXEMPT: '',
      RATE_LIMIT_ADDRESS_RPS: '2',
      RATE_LIMIT_ADDRESS_BURST: '4',
    })
    try {
      const answers: Answer[] = []
      const since = Date.now()
      for (let i = 0; i < 10; i++) answers.push(await send(pipeline.ingest, NOISY, { 'x-forwarded-for': `203.0.113.${i + 1}` }))
      console.log(`untrusted X-Forwarded-For rotating: ${JSON.stringify(tally(answers))}`)
      // Ten "clients" by the header, one by the socket: the burst of 4 plus 2/s, as for a single client.
      expect(tally(answers)[202]).toBeLessThanOrEqual(4 + 2 * ((Date.now() - since) / 1000) + 1)
      expect(tally(answers)[429]).toBeGreaterThan(0)
      expect(answers.filter((a) => a.status === 429).every((a) => a.body.limit === 'client_address')).toBe(true)
    } finally {
      expect(await pipeline.stop()).toBe(0)
    }
  })
})
