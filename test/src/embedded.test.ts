import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

interface EventRowOut {
  event_id: string
  type: string
  name: string
  ts: string
  url_path: string
  url_host: string
  referrer_host: string
  props: Record<string, string>
  browser: string
  browser_version: string
  os: string
  device_type: string
  is_bot: boolean
  country: string
  ip_prefix: string
  user_pid: string
  anon_id: string
  screen_w: number
  locale: string
  tz: string
}

// Public addresses with known countries in the shipped CC0 database; they reach ingest via a trusted (loopback) proxy.
const V4 = '8.8.8.8'
const V6 = '2001:4860:4860::8888'
const MAPPED = '::ffff:81.2.69.142'

let pipeline: RunningPipeline
let warehouse: ClickHouseClient
let exitCode: number | null
const accepted = { v4: event({ uid: 'user-42', t: 'custom', n: 'export_csv', p: { format: 'csv', rows: 120 } }), v4b: event(), v6: event(), mapped: event(), afterBad: event() }
const refused = { consent: event(), dnt: event(), gpc: event() }
// SDK retries reuse event ids: sent again after a 202, twice at once, and again after a restart.
const retried = { later: event(), together: event() }
const retryStatuses: number[] = []
const statuses: Record<string, number> = {}
const receiptId = crypto.randomUUID()
const bodies: Record<string, unknown> = {}
let metricsText = ''
// The log of the process that saw the addresses (the restarted one never did).
let firstOutput = ''

beforeAll(async () => {
  // Debug level: the most log lines any path writes, so a leaked address has every chance to show.
  pipeline = await startPipeline({ LOG_LEVEL: 'debug' })
  const origin = pipeline.demo
  const send = async (label: string, body: unknown, opts: Parameters<typeof post>[2] = {}) => {
    const res = await post(pipeline.ingest, body, { origin, ...opts })
    statuses[label] = res.status
    bodies[label] = await res.json()
  }
  await send('v4', batch([accepted.v4, accepted.v4b]), { headers: { 'x-forwarded-for': V4 } })
  await send('v6 beacon', batch([accepted.v6]), { headers: { 'x-forwarded-for': V6 }, beacon: true })
  await send('mapped', batch([accepted.mapped]), { headers: { 'x-forwarded-for': MAPPED } })
  await send('no consent', batch([refused.consent], { c: { a: false, p: false } }))
  await send('dnt', batch([refused.dnt]), { headers: { dnt: '1' } })
  await send('gpc', batch([refused.gpc]), { headers: { 'sec-gpc': '1' } })
  // Bad input, each answered with its 4xx, between valid batches.
  await send('malformed', '{"v":1,"k":')
  await send('wrong types', { ...batch([event()]), sa: 'now' })
  await send('oversize', { ...batch([event()]), pad: 'x'.repeat(70_000) })
  await send('unknown site', batch([event()], { k: 'pk_nobody' }))
  await send('bad origin', batch([event()]), { origin: 'https://evil.example' })
  await send('after bad', batch([accepted.afterBad]), { headers: { 'x-forwarded-for': V4 } })
  // A refusal's receipt is essential: it lands even with GPC on, and carries nothing about the visitor.
  const res = await fetch(`${pipeline.ingest}/v1/consent`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin, 'sec-gpc': '1', 'x-forwarded-for': V4 },
    body: JSON.stringify({ v: 1, k: 'pk_demo', id: receiptId, ts: Date.now() - 500, sa: Date.now(), a: false, p: true, src: 'gpc', r: '1' }),
  })
  statuses.receipt = res.status
  const again = async (e: ReturnType<typeof event>) => retryStatuses.push((await post(pipeline.ingest, batch([e]), { origin: pipeline.demo })).status)
  await again(retried.later)
  await again(retried.later)
  await Promise.all([again(retried.together), again(retried.together), again(retried.together)])
  metricsText = await (await fetch(`${pipeline.backoffice}/metrics`)).text()
  exitCode = await pipeline.stop()
  firstOutput = pipeline.output()
  // Restarted on the same data: the recent ids come back from the warehouse.
  pipeline = await startPipeline({ ATSPARK_DATA_DIR: pipeline.dataDir })
  await again(retried.later)
  expect(await pipeline.stop()).toBe(0)
  warehouse = openWarehouse(pipeline.dataDir)
})

afterAll(async () => {
  await warehouse?.close()
})

async function row(id: string): Promise<EventRowOut | undefined> {
  const found = await rows<EventRowOut>(warehouse, `SELECT * FROM atspark.events WHERE event_id = '${id}'`)
  return found[0]
}

describe('embedded pipeline, end to end over the built artifacts', () => {
  it('answered valid batches with 202 after the write, and stopped cleanly on SIGTERM', () => {
    expect(statuses).toMatchObject({ v4: 202, 'v6 beacon': 202, mapped: 202, 'after bad': 202 })
    expect(bodies.v4).toEqual({ accepted: 2, dropped: 0, rejected: [] })
    expect(exitCode).toBe(0)
  })

  it('stored every accepted event exactly once', async () => {
    const ids = Object.values(accepted).map((e) => `'${e.id}'`)
    const [counts] = await rows<{ n: string; u: string }>(warehouse, `SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events WHERE event_id IN (${ids.join(',')})`)
    expect(counts).toEqual({ n: '5', u: '5' })
  })

  it('stored a retried event once: sent again after its 202, three times at once, and again after a restart', async () => {
    expect(retryStatuses).toEqual([202, 202, 202, 202, 202, 202])
    const [counts] = await rows<{ later: string; together: string }>(
      warehouse,
      `SELECT countIf(event_id = '${retried.later.id}') AS later, countIf(event_id = '${retried.together.id}') AS together FROM atspark.events`,
    )
    expect(counts).toEqual({ later: '1', together: '1' })
    expect(metricsText).toMatch(/^atspark_processor_duplicate_events_total 3$/m)
  })

  it('anonymized IPv4 to /24 with the country from the full address', async () => {
    expect(await row(accepted.v4.id)).toMatchObject({ ip_prefix: '8.8.8.0/24', country: 'US' })
  })

  it('anonymized IPv6 to /48 with the country from the full address', async () => {
    expect(await row(accepted.v6.id)).toMatchObject({ ip_prefix: '2001:4860:4860::/48', country: 'US' })
  })

  it('handled an IPv4-mapped IPv6 address as IPv4', async () => {
    expect(await row(accepted.mapped.id)).toMatchObject({ ip_prefix: '81.2.69.0/24', country: 'GB' })
  })

  it('parsed the user agent server-side and kept only host and path of URLs', async () => {
    expect(await row(accepted.v4.id)).toMatchObject({
      type: 'custom',
      name: 'export_csv',
      props: { format: 'csv', rows: '120' },
      browser: 'Chrome',
      browser_version: '131',
      os: 'Windows',
      device_type: 'desktop',
      is_bot: false,
      url_host: 'app.example.com',
      url_path: '/reports/7',
      referrer_host: 'www.google.com',
      anon_id: 'anon_e2e',
      screen_w: 1920,
      locale: 'en-GB',
      tz: 'Europe/London',
    })
  })

  it('kept no raw IP, raw user id or query string anywhere in the table', async () => {
    const dump = JSON.stringify(await rows(warehouse, 'SELECT * FROM atspark.events'))
    for (const secret of ['8.8.8.8', '2001:4860:4860::8888', '81.2.69.142', 'user-42', 'someone@example.com', 'q=atspark']) {
      expect(dump).not.toContain(secret)
    }
    expect((await row(accepted.v4.id))?.user_pid).toMatch(/^[0-9a-f]{64}$/)
  })

  it('created events with the 13-month TTL, monthly partitions and ttl_only_drop_parts', async () => {
    const [create] = await rows<{ statement: string }>(warehouse, 'SHOW CREATE TABLE atspark.events')
    expect(create?.statement).toContain('PARTITION BY toYYYYMM(ts)')
    expect(create?.statement).toContain('TTL toDateTime(ts) + toIntervalMonth(13)')
    expect(create?.statement).toContain('ttl_only_drop_parts = 1')
  })

  it('stored nothing refused by consent, DNT or GPC, and counted each', async () => {
    expect(bodies['no consent']).toEqual({ accepted: 0, dropped: 1, dropped_reason: 'consent', rejected: [] })
    expect(bodies.dnt).toMatchObject({ accepted: 0, dropped_reason: 'dnt' })
    expect(bodies.gpc).toMatchObject({ accepted: 0, dropped_reason: 'gpc' })
    const ids = Object.values(refused).map((e) => `'${e.id}'`)
    const [counts] = await rows<{ n: string }>(warehouse, `SELECT count() AS n FROM atspark.events WHERE event_id IN (${ids.join(',')})`)
    expect(counts?.n).toBe('0')
    for (const reason of ['consent', 'dnt', 'gpc']) {
      expect(metricsText).toContain(`atspark_ingest_events_total{outcome="dropped_${reason}"} 1`)
    }
  })

  it('answered bad input with the right 4xx and a reason, never a 5xx', () => {
    expect(statuses).toMatchObject({ malformed: 400, 'wrong types': 400, oversize: 413, 'unknown site': 401, 'bad origin': 403 })
    expect(bodies.malformed).toEqual({ error: 'malformed_json', message: 'body is not valid JSON' })
    expect(bodies['wrong types']).toMatchObject({ error: 'invalid_batch' })
    expect(JSON.stringify(bodies['wrong types'])).toContain('sa')
    expect(bodies.oversize).toMatchObject({ error: 'body_too_large' })
    expect(bodies['unknown site']).toMatchObject({ error: 'unknown_write_key' })
    expect(bodies['bad origin']).toMatchObject({ error: 'origin_not_allowed' })
  })

  it('logged the consent receipt in consent_log, with no IP, under its 26-month TTL', async () => {
    expect(statuses.receipt).toBe(202)
    const logged = await rows(warehouse, 'SELECT receipt_id, org_id, site_id, analytics, preferences, source, policy_revision FROM atspark.consent_log')
    expect(logged).toEqual([{ receipt_id: receiptId, org_id: 'demo', site_id: 'demo', analytics: false, preferences: true, source: 'gpc', policy_revision: '1' }])
    const [create] = await rows<{ statement: string }>(warehouse, 'SHOW CREATE TABLE atspark.consent_log')
    expect(create?.statement).toContain('TTL toDateTime(received_at) + toIntervalMonth(26)')
    expect(create?.statement).not.toMatch(/\bip\b|anon_id|user/)
  })

  it('sealed IPs with a key generated once into the data dir (0600), and logged no address', () => {
    expect(statSync(join(pipeline.dataDir, 'ip-keys.json')).mode & 0o777).toBe(0o600)
    expect(firstOutput).toContain('IP keys')
    // The first process received every address above; its whole log must name none of them.
    expect(firstOutput).toContain('atSpark telemetry is running')
    for (const ip of [V4, V6, '81.2.69.142']) expect(firstOutput).not.toContain(ip)
  })

  it('recorded the migration versions', async () => {
    expect(await rows(warehouse, 'SELECT version, name FROM atspark.schema_migrations ORDER BY version')).toEqual([
      { version: 1, name: 'events' },
      { version: 2, name: 'consent_log' },
      { version: 3, name: 'audit_log' },
      { version: 4, name: 'privacy_requests' },
      { version: 5, name: 'suppressions' },
      { version: 6, name: 'rollup_hourly' },
      { version: 7, name: 'rollup_daily' },
      { version: 8, name: 'rollup_dims' },
      { version: 9, name: 'consent_log_hourly' },
      { version: 10, name: 'events_attribution' },
      { version: 11, name: 'shared_links' },
      { version: 12, name: 'events_visit_attribution' },
    ])
  })
})
