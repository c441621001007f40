import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { RecentEventIds } from './recent-ids.js'

describe('RecentEventIds.rebuild', () => {
  it('asks the warehouse for the org and id of every event received within the window, oldest first', async () => {
    const queries: { query: string; query_params: unknown; format: string }[] = []
    const client = {
      query: async (q: (typeof queries)[number]) => {
        queries.push(q)
        return { json: async () => [] }
      },
    } as unknown as ClickHouseClient
    expect(await new RecentEventIds(10, 600).rebuild(client)).toBe(0)
    const [q] = queries
    expect(q!.query.replace(/\s+/g, ' ')).toBe(
      'SELECT org_id, toString(event_id) AS id FROM atspark.events WHERE received_at >= now64(3) - toIntervalSecond({window:UInt32}) ORDER BY received_at',
    )
    expect(q!.query_params).toEqual({ window: 600 })
    expect(q!.format).toBe('JSONCompactEachRow')
  })
})

describe('RecentEventIds at its bound', () => {
  it('holds exactly max ids, and the same id under two orgs is two entries', () => {
    const ids = new RecentEventIds(2, 60)
    ids.add('a', 'x')
    ids.add('b', 'x')
    expect(ids.size).toBe(2)
    expect(ids.has('a', 'x') && ids.has('b', 'x')).toBe(true)
    ids.add('a', 'x')
    expect(ids.size).toBe(2)
    ids.add('c', 'y')
    expect(ids.size).toBe(2)
    // b's x was added longest ago (a's x was added again).
    expect(ids.has('b', 'x')).toBe(false)
    expect(ids.has('a', 'x')).toBe(true)
    expect(ids.has('c', 'y')).toBe(true)
    ids.clear()
    expect(ids.size).toBe(0)
    expect(ids.has('a', 'x')).toBe(false)
    ids.add('a', 'z')
    expect(ids.size).toBe(1)
  })

  it('evicts an org’s last id and can take that org again', () => {
    const ids = new RecentEventIds(1, 60)
    ids.add('a', '1')
    ids.add('b', '1')
    expect(ids.has('a', '1')).toBe(false)
    ids.add('a', '2')
    expect(ids.has('a', '2')).toBe(true)
    expect(ids.has('b', '1')).toBe(false)
    expect(ids.size).toBe(1)
  })
})
