import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MIGRATIONS, migrate } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

// Receipts must not be linkable to a visitor's events by time: consent_log keeps the UTC hour only,
// for receipts that arrive through the pipeline and for rows stored before migration 9.

const SEED = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000)
/** A seeded generator (mulberry32), so a failing run can be repeated with TEST_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

interface Receipt {
  receipt_id: string
  analytics: boolean
  source: string
  ts: string
  received_at: string
}

const hourOf = (text: string) => `${text.slice(0, 13)}:00:00.000`
const warehouseTime = (ms: number) => new Date(ms).toISOString().slice(0, 23).replace('T', ' ')

let pipeline: RunningPipeline
let warehouse: ClickHouseClient | undefined
/** Rows written with millisecond times by the code before migration 9. */
const legacy: Receipt[] = []
/** Receipts sent through ingest in this run. */
const sent: { id: string; a: boolean; src: string }[] = []
let analystKey = ''
let consentStats: { grants: number; refusals: number } | undefined
/** The first event of each receipt's visitor, sent right after the receipt: what a fine time would link it to. */
const firstEvents: string[] = []

beforeAll(async () => {
  console.log(`consent-receipts seed: ${SEED} (TEST_SEED=${SEED} repeats it)`)
  const rand = random(SEED)
  const dataDir = join(mkdtempSync(join(tmpdir(), 'atspark-receipts-')), 'data')
  // A warehouse as the previous release left it: migrations 1–8 and receipts with millisecond times.
  const old = openWarehouse(dataDir)
  await migrate(
    old,
    MIGRATIONS.filter((m) => m.version <= 8),
  )
  const base = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 60 * 86_400_000
  for (let i = 0; i < 40; i++) {
    const received = base + Math.floor(rand() * 30 * 86_400_000)
    // Every fifth one on the exact hour in ms: nothing to coarsen, it must survive unchanged too.
    const at = i % 5 === 0 ? received - (received % 3_600_000) : received
    legacy.push({ receipt_id: crypto.randomUUID(), analytics: rand() < 0.5, source: 'banner', ts: warehouseTime(at - Math.floor(rand() * 5000)), received_at: warehouseTime(at) })
  }
  await old.insert({
    table: 'atspark.consent_log',
    values: legacy.map((r) => ({ ...r, org_id: 'demo', site_id: 'demo', preferences: false, policy_revision: '1' })),
    format: 'JSONEachRow',
  })
  await old.close()

  pipeline = await startPipeline({ ATSPARK_DATA_DIR: dataDir })
  analystKey = pipeline.output().match(/demo analyst key\s+(sk_[A-Za-z0-9_-]+)/)?.[1] ?? ''
  for (let i = 0; i < 12; i++) {
    const id = crypto.randomUUID()
    const a = i % 3 !== 0
    const src = i % 4 === 0 ? 'api' : 'banner'
    const now = Date.now()
    const res = await fetch(`${pipeline.ingest}/v1/consent`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: pipeline.demo },
      body: JSON.stringify({ v: 1, k: 'pk_demo', id, ts: now - 3, sa: now, a, p: false, src, r: '1' }),
    })
    expect(res.status).toBe(202)
    sent.push({ id, a, src })
    if (a) {
      const first = event({ a: `anon_receipt_${i}`, s: `sess_receipt_${i}`, ts: Date.now() })
      expect((await post(pipeline.ingest, batch([first]), { origin: pipeline.demo })).status).toBe(202)
      firstEvents.push(first.id)
    }
  }
  const from = new Date(base).toISOString().slice(0, 10)
  const res = await fetch(`${pipeline.backoffice}/v1/stats/consent?site=demo&from=${from}`, { headers: { authorization: `Bearer ${analystKey}` } })
  consentStats = res.ok ? ((await res.json()) as { grants: number; refusals: number }) : undefined
  const code = await pipeline.stop()
  if (code !== 0) console.log(pipeline.output().slice(-4000))
  expect(code).toBe(0)
  warehouse = openWarehouse(dataDir)
})

afterAll(async () => {
  await warehouse?.close()
  await pipeline?.stop()
})

describe('consent receipts keep the hour only', () => {
  it('stores receipts that came through ingest with both times on the UTC hour', async () => {
    const stored = await rows<Receipt>(warehouse!, `SELECT toString(receipt_id) AS receipt_id, analytics, source, ts, received_at FROM atspark.consent_log WHERE receipt_id IN (${sent.map((s) => `'${s.id}'`).join(',')})`)
    expect(stored).toHaveLength(sent.length)
    for (const r of stored) {
      expect(r.ts).toBe(hourOf(r.ts))
      expect(r.received_at).toBe(hourOf(r.received_at))
    }
    expect(new Map(stored.map((r) => [r.receipt_id, [r.analytics, r.source]]))).toEqual(new Map(sent.map((s) => [s.id, [s.a, s.src]])))
  })

  it('cannot be told apart by time, so none lines up with its visitor\'s first event', async () => {
    // Sent within seconds, each right before its visitor's first event: with times finer than the hour each
    // receipt has its own, the one nearest that event. Coarse, they share one (two if the run crossed an hour).
    const times = await rows<{ t: string; n: string }>(
      warehouse!,
      `SELECT concat(toString(ts), '|', toString(received_at)) AS t, count() AS n FROM atspark.consent_log WHERE receipt_id IN (${sent.map((s) => `'${s.id}'`).join(',')}) GROUP BY t`,
    )
    expect(firstEvents.length).toBeGreaterThan(0)
    expect(times.length).toBeLessThanOrEqual(2)
    expect(Math.max(...times.map((t) => Number(t.n)))).toBeGreaterThanOrEqual(sent.length / 2)
  })

  it('coarsened the rows stored before migration 9: every receipt still there once, on its hour', async () => {
    const stored = await rows<Receipt>(warehouse!, `SELECT toString(receipt_id) AS receipt_id, analytics, source, ts, received_at FROM atspark.consent_log WHERE receipt_id IN (${legacy.map((s) => `'${s.receipt_id}'`).join(',')}) ORDER BY receipt_id`)
    const expected = legacy.map((r) => ({ ...r, ts: hourOf(r.ts), received_at: hourOf(r.received_at) })).sort((a, b) => (a.receipt_id < b.receipt_id ? -1 : 1))
    expect(stored).toEqual(expected)
    const [fine] = await rows<{ n: string }>(warehouse!, 'SELECT count() AS n FROM atspark.consent_log WHERE ts != toStartOfHour(ts) OR received_at != toStartOfHour(received_at)')
    expect(fine?.n).toBe('0')
    const versions = await rows<{ version: number; name: string }>(warehouse!, 'SELECT version, name FROM atspark.schema_migrations WHERE version = 9')
    expect(versions).toEqual([{ version: 9, name: 'consent_log_hourly' }])
  })

  it('still answers /v1/stats/consent from the coarse rows: every receipt of the range counted once', () => {
    const legacyGrants = legacy.filter((r) => r.analytics).length
    expect(consentStats).toMatchObject({
      grants: legacyGrants + sent.filter((s) => s.a).length,
      refusals: legacy.length - legacyGrants + sent.filter((s) => !s.a).length,
    })
  })
})
