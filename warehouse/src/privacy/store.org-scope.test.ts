import type { AuditRow, PrivacyRequestRow, SuppressionRow } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { warehousePrivacyStore } from './store.js'

// What the warehouse store sends, read without a warehouse: every read and erase of events carries the
// key's org as a bound filter. That the engine then keeps orgs apart is proven end to end in
// test/src/privacy-api.test.ts; this pins the text those suites cannot mutate (they run the build).

interface Call {
  method: 'query' | 'command' | 'insert'
  params: Record<string, unknown>
}

function recordingClient(answer: { json?: unknown[]; stream?: string[][] } = {}) {
  const calls: Call[] = []
  const client = {
    async query(params: Record<string, unknown>) {
      calls.push({ method: 'query', params })
      return {
        json: async () => answer.json ?? [],
        async *stream() {
          for (const chunk of answer.stream ?? []) yield chunk.map((text) => ({ text }))
        },
      }
    },
    async command(params: Record<string, unknown>) {
      calls.push({ method: 'command', params })
      return {}
    },
    async insert(params: Record<string, unknown>) {
      calls.push({ method: 'insert', params })
      return {}
    },
  }
  return { calls, store: warehousePrivacyStore(client as unknown as ClickHouseClient) }
}

const ORG = 'org-a'
const byUser = { column: 'user_pid', value: 'pid-1' } as const
const byAnon = { column: 'anon_id', value: 'anon-1' } as const

/** The WHERE clause of a statement, squeezed to single spaces. */
const where = (sql: unknown) => String(sql).replace(/\s+/g, ' ').split(' WHERE ')[1] ?? ''

describe('warehousePrivacyStore: every subject statement is scoped to the key’s org', () => {
  it('erases only the subject’s events of this org, by the subject’s column, and waits for the delete', async () => {
    for (const match of [byUser, byAnon]) {
      const { calls, store } = recordingClient()
      await store.deleteEvents(ORG, match)
      expect(calls).toHaveLength(1)
      const [call] = calls
      expect(call!.method).toBe('command')
      expect(String(call!.params['query'])).toMatch(/^DELETE FROM atspark\.events WHERE /)
      expect(where(call!.params['query'])).toBe(`org_id = {org:String} AND ${match.column} = {subject:String} AND {subject:String} != ''`)
      expect(call!.params['query_params']).toEqual({ org: ORG, subject: match.value })
      expect(call!.params['clickhouse_settings']).toEqual({ mutations_sync: '2' })
    }
  })

  it('counts only the subject’s events of this org', async () => {
    const { calls, store } = recordingClient({ json: [{ n: '7' }] })
    expect(await store.countEvents(ORG, byAnon)).toBe(7)
    const [call] = calls
    expect(String(call!.params['query'])).toMatch(/^SELECT count\(\) AS n FROM atspark\.events WHERE /)
    expect(where(call!.params['query'])).toBe("org_id = {org:String} AND anon_id = {subject:String} AND {subject:String} != ''")
    expect(call!.params['query_params']).toEqual({ org: ORG, subject: 'anon-1' })
    expect(call!.params['format']).toBe('JSONEachRow')
  })

  it('counts 0 when the warehouse returns no row', async () => {
    const { store } = recordingClient({ json: [] })
    expect(await store.countEvents(ORG, byUser)).toBe(0)
  })

  it('exports only the subject’s events of this org, oldest first, one JSON text per row', async () => {
    const { calls, store } = recordingClient({ stream: [['{"a":1}', '{"a":2}'], ['{"a":3}']] })
    const rows: string[] = []
    for await (const row of store.exportEvents(ORG, byUser)) rows.push(row)
    expect(rows).toEqual(['{"a":1}', '{"a":2}', '{"a":3}'])
    const [call] = calls
    expect(String(call!.params['query'])).toMatch(/^SELECT \* FROM atspark\.events WHERE /)
    expect(where(call!.params['query'])).toBe("org_id = {org:String} AND user_pid = {subject:String} AND {subject:String} != '' ORDER BY ts, event_id")
    expect(call!.params['query_params']).toEqual({ org: ORG, subject: 'pid-1' })
    expect(call!.params['format']).toBe('JSONEachRow')
  })

  it('lists only this org’s requests, newest first, latest version of each', async () => {
    const listed = [{ request_id: 'r1' }]
    const { calls, store } = recordingClient({ json: listed })
    expect(await store.listRequests(ORG, 20)).toEqual(listed)
    const [call] = calls
    const sql = String(call!.params['query']).replace(/\s+/g, ' ')
    expect(sql).toContain('FROM atspark.privacy_requests FINAL WHERE org_id = {org:String} ORDER BY created_at DESC, request_id LIMIT {limit:UInt32}')
    expect(call!.params['query_params']).toEqual({ org: ORG, limit: 20 })
    expect(call!.params['format']).toBe('JSONEachRow')
  })
})

describe('warehousePrivacyStore: writes and the suppression list', () => {
  it('writes audit rows, requests and suppressions to their tables, and no empty audit insert', async () => {
    const { calls, store } = recordingClient()
    await store.audit([])
    expect(calls).toEqual([])
    const audit = [{ action: 'erase' }] as unknown as AuditRow[]
    const request = { request_id: 'r1' } as unknown as PrivacyRequestRow
    const suppression = { org_id: ORG } as unknown as SuppressionRow
    await store.audit(audit)
    await store.putRequest(request)
    await store.putSuppression(suppression)
    expect(calls.map((c) => c.params)).toEqual([
      { table: 'atspark.audit_log', values: audit, format: 'JSONEachRow' },
      { table: 'atspark.privacy_requests', values: [request], format: 'JSONEachRow' },
      { table: 'atspark.suppressions', values: [suppression], format: 'JSONEachRow' },
    ])
    expect(calls.every((c) => c.method === 'insert')).toBe(true)
  })

  it('reads the active suppressions of every org, latest version of each', async () => {
    const rows = [{ org_id: ORG, subject_kind: 'user', subject: 'a'.repeat(64), extra: 'dropped' }]
    const { calls, store } = recordingClient({ json: rows })
    expect(await store.activeSuppressions()).toEqual([{ org_id: ORG, subject_kind: 'user', subject: 'a'.repeat(64) }])
    const [call] = calls
    expect(String(call!.params['query'])).toBe('SELECT org_id, subject_kind, subject FROM atspark.suppressions FINAL WHERE active')
    expect(call!.params['format']).toBe('JSONEachRow')
  })
})
