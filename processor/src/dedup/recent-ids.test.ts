import type { ClickHouseClient } from '@clickhouse/client'
import fc from 'fast-check'
import { LRUCache } from 'lru-cache'
import { describe, expect, it } from 'vitest'
import { RecentEventIds, rememberWritten, withoutSeenEvents } from './recent-ids.js'

/** What RecentEventIds replaced: an LRU keyed by org and id, bumped on set only. Its answers are the reference. */
class LruReference {
  private readonly seen: LRUCache<string, true>
  constructor(max: number) {
    this.seen = new LRUCache({ max })
  }
  has(org: string, id: string): boolean {
    return this.seen.has(`${org}\u0000${id}`)
  }
  add(org: string, id: string): void {
    this.seen.set(`${org}\u0000${id}`, true)
  }
  get size(): number {
    return this.seen.size
  }
}

/** A client whose one query answers `rows`, like the warehouse's JSONCompactEachRow. */
function fakeWarehouse(rows: [string, string][]): { client: ClickHouseClient; queries: unknown[] } {
  const queries: unknown[] = []
  const query = async (q: unknown) => {
    queries.push(q)
    return { json: async () => rows }
  }
  const client = { query } as unknown as ClickHouseClient
  return { client, queries }
}

describe('RecentEventIds', () => {
  it('remembers ids per org', () => {
    const ids = new RecentEventIds(1_000, 3_600)
    ids.add('acme', 'e1')
    expect(ids.has('acme', 'e1')).toBe(true)
    expect(ids.has('other', 'e1')).toBe(false)
    expect(ids.has('acme', 'e2')).toBe(false)
    // The separator of the old string key cannot make two pairs collide any more than before.
    expect(ids.has('acme\u0000e1', '')).toBe(false)
    ids.add('acme', 'e1')
    expect(ids.size).toBe(1)
  })

  it('drops the id added longest ago when full; adding again makes an id young, has does not', () => {
    const ids = new RecentEventIds(3, 3_600)
    for (const id of ['a', 'b', 'c']) ids.add('o', id)
    expect(ids.has('o', 'a')).toBe(true) // no effect on order
    ids.add('o', 'd')
    expect(['a', 'b', 'c', 'd'].map((id) => ids.has('o', id))).toEqual([false, true, true, true])
    ids.add('o', 'b') // b is now the youngest
    ids.add('o', 'e')
    expect(['b', 'c', 'd', 'e'].map((id) => ids.has('o', id))).toEqual([true, false, true, true])
    expect(ids.size).toBe(3)
  })

  it('answers as the LRU it replaced over any sequence of adds and lookups', { timeout: 60_000 }, () => {
    const op = fc.tuple(fc.boolean(), fc.constantFrom('o1', 'o2', 'o3'), fc.integer({ min: 0, max: 40 }))
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.array(op, { maxLength: 400 }), (max, ops) => {
        const ids = new RecentEventIds(max, 3_600)
        const ref = new LruReference(max)
        for (const [isAdd, org, n] of ops) {
          const id = `e${n}`
          if (isAdd) {
            ids.add(org, id)
            ref.add(org, id)
          } else expect(ids.has(org, id)).toBe(ref.has(org, id))
          expect(ids.size).toBe(ref.size)
        }
        for (const org of ['o1', 'o2', 'o3']) for (let n = 0; n <= 40; n++) expect(ids.has(org, `e${n}`)).toBe(ref.has(org, `e${n}`))
      }),
      { numRuns: 2_000 },
    )
  })

  it('stays bounded and correct over many adds (queue compaction), with and without repeats', () => {
    const ids = new RecentEventIds(1_000, 3_600)
    const ref = new LruReference(1_000)
    for (let i = 0; i < 50_000; i++) {
      const id = `e${i % 3 === 0 ? i % 700 : i}`
      ids.add(`o${i % 2}`, id)
      ref.add(`o${i % 2}`, id)
    }
    expect(ids.size).toBe(1_000)
    for (let i = 49_000; i < 50_000; i++) for (const org of ['o0', 'o1']) expect(ids.has(org, `e${i}`)).toBe(ref.has(org, `e${i}`))
    for (let i = 0; i < 700; i++) for (const org of ['o0', 'o1']) expect(ids.has(org, `e${i}`)).toBe(ref.has(org, `e${i}`))
    // Repeats alone, never full: the queue must not grow without bound.
    const small = new RecentEventIds(1_000, 3_600)
    for (let i = 0; i < 100_000; i++) small.add('o', `e${i % 10}`)
    expect(small.size).toBe(10)
    expect((small as unknown as { queueSeqs: number[]; head: number }).queueSeqs.length).toBeLessThan(5_000)
  })

  it('rebuilds from the warehouse: forgets what it held, keeps the newest within the bound', async () => {
    const ids = new RecentEventIds(2, 900)
    ids.add('o', 'old')
    const { client, queries } = fakeWarehouse([
      ['o', 'e1'],
      ['p', 'e2'],
      ['o', 'e3'],
    ])
    expect(await ids.rebuild(client)).toBe(2)
    expect(ids.has('o', 'old')).toBe(false)
    expect(ids.has('o', 'e1')).toBe(false)
    expect(ids.has('p', 'e2')).toBe(true)
    expect(ids.has('o', 'e3')).toBe(true)
    expect(queries).toMatchObject([{ query_params: { window: 900 }, format: 'JSONCompactEachRow' }])
  })
})

describe('withoutSeenEvents / rememberWritten', () => {
  const ev = (org: string, id: string) => ({ table: 'events', row: { org_id: org, event_id: id } })
  const other = { table: 'consent_log', row: { org_id: 'a', event_id: 'x' } }

  it('drops events written before and repeats within the write, per org, and leaves other tables alone', () => {
    const recent = new RecentEventIds(100, 60)
    rememberWritten([ev('a', '1'), other], recent)
    const { kept, duplicates } = withoutSeenEvents([ev('a', '1'), ev('a', '2'), ev('a', '2'), ev('b', '1'), other, other], recent)
    expect(kept).toEqual([ev('a', '2'), ev('b', '1'), other, other])
    expect(duplicates).toBe(2)
    // Only events count as written; a write that failed (not remembered) leaves its ids free.
    expect(recent.has('a', 'x')).toBe(false)
    expect(recent.has('a', '2')).toBe(false)
  })
})
