import type { WireEvent } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { event, sendLoad } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { committedOffsets, eventsEnvelope, produceRaw } from './support/raw-topic.js'
import { seededUuid, testRandom } from './support/test-seed.js'
import { openWarehouse, rows } from './support/warehouse.js'

let d: Distributed | undefined
let warehouse: ClickHouseClient | undefined
afterEach(async () => {
  await warehouse?.close()
  warehouse = undefined
  await d?.stopAll()
  d = undefined
})

const TOTAL = 50_000

describe('ingest → Kafka → processor → ClickHouse, exactly once', () => {
  it(`writes ${TOTAL} events exactly once while the processor is kill -9'd and restarted three times`, async () => {
    const rnd = testRandom()
    d = await startDistributed(inject('kafkaBrokers'))
    // Visitors spread the batches over the partitions (messages are keyed by visitor).
    const newEvent = () => event({ id: seededUuid(rnd), a: `anon_${rnd.int(16)}` })
    const load = sendLoad(d.ingestUrl, TOTAL, { batchSize: 50, concurrency: 8, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN, newEvent })
    const kills: number[] = []
    for (let i = 0; i < 3; i++) {
      // A point in the flow: somewhere in the next 0.5–2.5 s, drawn from the seed.
      await new Promise((r) => setTimeout(r, 500 + rnd.int(2001)))
      kills.push(Date.now())
      await d.processor.kill()
      await d.restartProcessor()
    }
    const result = await load
    expect(result.statuses.get(202)).toBe(TOTAL / 50)
    await d.waitDrained(180_000)
    expect(await d.processor.stop()).toBe(0)

    warehouse = openWarehouse(d.dataDir)
    const [counts] = await rows<{ n: string; u: string }>(warehouse, 'SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events')
    expect(counts).toEqual({ n: String(TOTAL), u: String(TOTAL) })
    console.log(`exactly-once: ${TOTAL} rows after ${kills.length} kill -9s of the processor`)
  })
})

const PARTITIONS = 4
/** The duplicate-id window the processor runs with here; the backlog is older than it. */
const WINDOW_SECONDS = 600
const BACKLOG_AGE_MS = 3_600_000

/** org → the event ids the warehouse must hold, each once. */
type Expected = Record<'org-a' | 'org-b', string[]>

/**
 * A processor kill -9'd (by its own failpoint, a real SIGKILL) on one side of the insert of its
 * second batch, then restarted on the same data directory. The data is chosen so that each dedup
 * layer alone stands between the crash and a duplicate:
 * - wave 1, received now, one message (batch 1), written and committed before the crash; after
 *   the crash its events come again as SDK retries (same ids, new messages): only the duplicate-id
 *   window, rebuilt from the warehouse by the new process, drops them;
 * - wave 2, per partition one message received now and then a backlog received an hour ago
 *   (outside the window): batch 2 is one partition's wave 2, killed mid-write. Re-formed, the
 *   window drops its recent events, so the insert differs from the first (ClickHouse's block-hash
 *   dedup cannot match it) and only the recorded range (`end=` metadata) and the dedup token
 *   naming it stop the backlog being stored twice;
 * - wave 3, produced after the crash on every partition, so a restart that ignored the recorded
 *   range would seal a larger one (another token) instead.
 * Org b's backlog reuses org a's event ids: the same id under two orgs is two events.
 */
async function killAtTheInsert(point: 'before-insert' | 'after-insert'): Promise<void> {
  const rnd = testRandom()
  d = await startDistributed(inject('kafkaBrokers'), {
    ATSPARK_FAILPOINTS: '1',
    ATSPARK_FAILPOINT_KILL: `${point}:2`,
    RECENT_IDS_WINDOW_SECONDS: String(WINDOW_SECONDS),
  })
  const dist = d
  const expected: Expected = { 'org-a': [], 'org-b': [] }
  const events = (n: number, visitor: string, ts: number, ids?: string[]): WireEvent[] =>
    Array.from({ length: n }, (_, i) => event({ id: ids?.[i] ?? seededUuid(rnd), ts, a: visitor, s: `s_${visitor}`, u: `https://app.example.com/p/${i % 3}` }))

  // Wave 1: batch 1, committed; its ids are in the warehouse, and in the window, when the crash comes.
  const now = Date.now()
  const wave1 = events(20, 'v_recent', now - 1_000)
  await produceRaw(dist, [{ partition: 0, value: eventsEnvelope(dist, 'org-a', wave1, now) }])
  expected['org-a'].push(...wave1.map((e) => e.id))
  await dist.waitDrained()

  // Wave 2: on each partition a recent message, then the backlog; the processor dies on its first batch.
  const old = now - BACKLOG_AGE_MS
  const backlog = []
  for (let p = 0; p < PARTITIONS; p++) {
    const recent = events(10, `v_now_${p}`, now - 1_000)
    backlog.push({ partition: p, value: eventsEnvelope(dist, 'org-a', recent, now) })
    expected['org-a'].push(...recent.map((e) => e.id))
    for (let m = 0; m < 3; m++) {
      const a = events(15, `v_old_${p}_${m}`, old - 1_000)
      // Org b's message on the same partition carries the same event ids.
      const b = events(15, `v_old_${p}_${m}`, old - 1_000, a.map((e) => e.id))
      backlog.push({ partition: p, value: eventsEnvelope(dist, 'org-a', a, old) }, { partition: p, value: eventsEnvelope(dist, 'org-b', b, old) })
      expected['org-a'].push(...a.map((e) => e.id))
      expected['org-b'].push(...b.map((e) => e.id))
    }
  }
  await produceRaw(dist, backlog)
  const died = await within(dist.processor.exited(), 60_000, () => `the processor did not die at ${point}:2:\n${dist.processor.output().slice(-3000)}`)
  expect(died.signal).toBe('SIGKILL')
  const killed = new RegExp(`failpoint: kill -9 ${point} of batch 2 \\(([^)]+):(\\d+):(\\d+)-(\\d+)\\)`).exec(dist.processor.output())
  expect(killed, dist.processor.output().slice(-3000)).not.toBeNull()
  const [, , partition, start, end] = killed!
  // The moment itself: the range is recorded and not committed (soft, so a broken layer still shows its duplicates below).
  expect.soft((await committedOffsets(dist)).get(Number(partition))).toEqual({ offset: start, metadata: `end=${end}` })

  // Wave 3 on every partition, and wave 1 again as SDK retries (same ids, freshly received, on its visitor's partition).
  const later = []
  for (let p = 0; p < PARTITIONS; p++) {
    const a = events(10, `v_late_${p}`, old)
    later.push({ partition: p, value: eventsEnvelope(dist, 'org-a', a, old + 1_000) })
    expected['org-a'].push(...a.map((e) => e.id))
  }
  later.push({ partition: 0, value: eventsEnvelope(dist, 'org-a', wave1, Date.now()) })
  await produceRaw(dist, later)

  // The same build with the failpoints off: the setting alone arms nothing.
  const restarted = await dist.restartProcessor({ ATSPARK_FAILPOINTS: '0' })
  await dist.waitDrained()
  expect.soft(restarted.output()).toContain('re-forming a batch a previous run recorded')
  expect(await dist.processor.stop()).toBe(0)

  warehouse = openWarehouse(dist.dataDir)
  await expectExactlyOnce(warehouse, expected)
  console.log(`kill -9 ${point} of batch 2 (${killed![1]}:${partition}:${start}-${end}): ${expected['org-a'].length} + ${expected['org-b'].length} events, each once`)
}

/** Every expected event exactly once per org, none other, and the rollups counting each once. */
async function expectExactlyOnce(client: ClickHouseClient, expected: Expected): Promise<void> {
  const stored = await rows<{ org_id: string; n: string; ids: string[] }>(
    client,
    'SELECT org_id, toString(count()) AS n, arraySort(groupArray(toString(event_id))) AS ids FROM atspark.events GROUP BY org_id ORDER BY org_id',
  )
  const want = Object.entries(expected).map(([org, ids]) => ({ org_id: org, n: String(ids.length), ids: [...ids].sort() }))
  const repeated = await rows<{ org_id: string; event_id: string; n: string }>(
    client,
    'SELECT org_id, toString(event_id) AS event_id, toString(count()) AS n FROM atspark.events GROUP BY org_id, event_id HAVING count() > 1 ORDER BY org_id, event_id LIMIT 10',
  )
  expect(repeated, 'events stored more than once').toEqual([])
  expect(stored).toEqual(want)
  // The totals row of every bucket: one per event, however often the batch was re-inserted.
  const rollups = await rows<{ org_id: string; n: string }>(
    client,
    "SELECT org_id, toString(sum(events)) AS n FROM atspark.rollup_dims_hourly WHERE dimension = '' GROUP BY org_id ORDER BY org_id",
  )
  expect(rollups).toEqual(want.map(({ org_id, n }) => ({ org_id, n })))
}

async function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

describe('kill -9 at the exact moments of the exactly-once write (failpoint, real broker, real chDB)', () => {
  it('after the insert returned and before the offset commit: every event once per org, rollups too', async () => {
    await killAtTheInsert('after-insert')
  })

  it('after the batch range was recorded and before the insert: every event once per org, rollups too', async () => {
    await killAtTheInsert('before-insert')
  })
})
