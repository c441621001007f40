import type { WireEvent } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { SITE_ORIGIN, writeTenantsFile } from './support/tenants-file.js'
import { openWarehouse, rows } from './support/warehouse.js'

const NOISY = 'pk_noisy_site'
const QUIET = 'pk_quiet_site'
/** One key per phase of the address test, so the write-key limit never answers for the address limit. */
const ADDR = ['pk_addr_a', 'pk_addr_b', 'pk_addr_c'] as const

interface Answer {
  status: number
  retryAfter: string | null
  body: { error?: string; limit?: string; accepted?: number; dropped_reason?: string }
}

async function send(ingest: string, writeKey: string, headers: Record<string, string> = {}, body: unknown = batch([event()], { k: writeKey })): Promise<Answer> {
  const res = await post(ingest, body, { origin: SITE_ORIGIN, headers })
  const json = (await res.json().catch(() => ({}))) as Answer['body']
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: json }
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
      // No per-address share of a key here: the key and address limits are the ones under test (the share has its own suite below).
      RATE_LIMIT_KEY_ADDRESS_SHARE: '1',
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
    // Eight connections flood one key from loopback (exempt from the address limit), as fast as answers come,
    // for 4 s and until the quiet site got 3 answers (a loaded machine can make each answer take a second).
    const flood = Array.from({ length: 8 }, async () => {
      while (Date.now() - started < 4_000 || quiet.length < 3) noisy.push(await send(pipeline.ingest, NOISY))
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

const FLOODED = 'pk_flooded_site'
const SHARED = 'pk_shared_site'
const GEO = 'pk_geo_site'

describe("a site's write-key budget under batches that store nothing, and proxies that write ports", () => {
  let pipeline: RunningPipeline
  const landed = { flooded: [] as WireEvent[], shared: [] as WireEvent[] }
  const geo = { v4: event(), v6: event(), mapped: event() }
  beforeAll(async () => {
    pipeline = await startPipeline({
      ATSPARK_TENANTS_FILE: writeTenantsFile([FLOODED, SHARED, GEO]),
      // A small key budget (5 at once, then 2/s) that 20 addresses could drain in well under a second;
      // each address's share of it: 0.4, so 2 at once, then 0.8/s. The address limit stays at its default.
      RATE_LIMIT_KEY_RPS: '2',
      RATE_LIMIT_KEY_BURST: '5',
      RATE_LIMIT_KEY_ADDRESS_SHARE: '0.4',
    })
  })
  afterAll(async () => {
    await pipeline?.stop()
  })

  it('20 addresses sending c.a:false batches do not stop granted batches on the same key from landing', async () => {
    const started = Date.now()
    const attack: Answer[] = []
    const refused = batch([event(), event()], { k: FLOODED, c: { a: false, p: false, r: '1' } })
    // Twenty addresses behind the trusted proxy, two connections each, for three seconds.
    const flood = Array.from({ length: 40 }, async (_, i) => {
      const xff = { 'x-forwarded-for': `198.51.100.${(i % 20) + 1}` }
      while (Date.now() - started < 3_000) attack.push(await send(pipeline.ingest, FLOODED, xff, refused))
    })
    // Five visitors who granted, one every 500 ms while the flood runs: the key's burst of 5 holds all of them.
    const granted: Answer[] = []
    const visitors = (async () => {
      for (let v = 0; v < 5; v++) {
        await new Promise((r) => setTimeout(r, 500))
        const e = event()
        const answer = await send(pipeline.ingest, FLOODED, { 'x-forwarded-for': `192.0.2.${v + 1}` }, batch([e], { k: FLOODED }))
        granted.push(answer)
        if (answer.status === 202) landed.flooded.push(e)
      }
    })()
    await Promise.all([...flood, visitors])
    console.log(`refused flood: ${attack.length} batches from 20 addresses in ${((Date.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(tally(attack))}; granted visitors ${JSON.stringify(tally(granted))}`)
    // Enough refused batches to have drained the key's budget many times over had they been charged to it.
    expect(attack.length).toBeGreaterThan(50)
    expect(attack.filter((a) => a.status === 429).every((a) => a.body.limit === 'client_address')).toBe(true)
    expect(attack.filter((a) => a.status === 202).every((a) => a.body.accepted === 0 && a.body.dropped_reason === 'consent')).toBe(true)
    expect(granted.map((a) => [a.status, a.body.accepted])).toEqual(Array.from({ length: 5 }, () => [202, 1]))
  })

  it('gives one address only its share of the key, while its neighbour still lands', async () => {
    const since = Date.now()
    const hog: Answer[] = []
    for (let i = 0; i < 6; i++) {
      const e = event()
      const answer = await send(pipeline.ingest, SHARED, { 'x-forwarded-for': '203.0.113.200' }, batch([e], { k: SHARED }))
      hog.push(answer)
      if (answer.status === 202) landed.shared.push(e)
    }
    const e = event()
    const neighbour = await send(pipeline.ingest, SHARED, { 'x-forwarded-for': '203.0.113.201' }, batch([e], { k: SHARED }))
    if (neighbour.status === 202) landed.shared.push(e)
    console.log(`share of a key: one address ${JSON.stringify(tally(hog))}, its neighbour ${neighbour.status}`)
    // The share: 2 at once, then 0.8/s.
    expect(tally(hog)[202]).toBeLessThanOrEqual(2 + 0.8 * ((Date.now() - since) / 1000) + 1)
    expect(hog.filter((a) => a.status === 429).length).toBeGreaterThan(0)
    for (const a of hog.filter((x) => x.status === 429)) {
      expect(a.body).toMatchObject({ error: 'rate_limited', limit: 'key_address' })
      expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1)
    }
    expect(neighbour.status).toBe(202)
  })

  it('reads an X-Forwarded-For that carries a port (or brackets) down to the address', async () => {
    const answers = [
      await send(pipeline.ingest, GEO, { 'x-forwarded-for': '8.8.8.8:4711' }, batch([geo.v4], { k: GEO })),
      await send(pipeline.ingest, GEO, { 'x-forwarded-for': '[2001:4860:4860::8888]:443' }, batch([geo.v6], { k: GEO })),
      await send(pipeline.ingest, GEO, { 'x-forwarded-for': '[::ffff:81.2.69.142]:8080, 127.0.0.1:3128' }, batch([geo.mapped], { k: GEO })),
    ]
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202])
  })

  it('stored the granted batches with the country of the address behind the port, and nothing of the refused flood', async () => {
    expect(await pipeline.stop()).toBe(0)
    const warehouse = openWarehouse(pipeline.dataDir)
    try {
      // Geolocation of the full address, then truncation: as if the proxy had written no port.
      const row = async (e: WireEvent) => (await rows<{ country: string; ip_prefix: string }>(warehouse, `SELECT country, ip_prefix FROM atspark.events WHERE event_id = '${e.id}'`))[0]
      expect([await row(geo.v4), await row(geo.v6), await row(geo.mapped)]).toEqual([
        { country: 'US', ip_prefix: '8.8.8.0/24' },
        { country: 'US', ip_prefix: '2001:4860:4860::/48' },
        { country: 'GB', ip_prefix: '81.2.69.0/24' },
      ])
      const stored = await rows<{ site_id: string; n: string }>(warehouse, `SELECT site_id, count() AS n FROM atspark.events GROUP BY site_id ORDER BY site_id`)
      // site0 is the flooded key, site1 the shared one, site2 the geo one (tenants-file order).
      expect(stored).toEqual([
        { site_id: 'site0', n: String(landed.flooded.length) },
        { site_id: 'site1', n: String(landed.shared.length) },
        { site_id: 'site2', n: '3' },
      ])
      expect(landed.flooded).toHaveLength(5)
    } finally {
      await warehouse.close()
    }
  })
})
