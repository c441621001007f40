import type { SharedLinkRow } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { describe, expect, it } from 'vitest'
import { warehouseSharedLinkStore } from './store.js'

// What the warehouse store sends, read without a warehouse: every read by id carries the admin key's
// org as a bound filter, and reads take each link's latest version (FINAL). That the engine keeps orgs
// apart and a revocation holds is proven end to end in test/src/shared-links.test.ts and
// backoffice/src/shares/api.test.ts (chDB); this pins the text those suites see only through answers.

interface Call {
  method: 'query' | 'insert'
  params: Record<string, unknown>
}

function recordingClient(json: unknown[] = []) {
  const calls: Call[] = []
  const client = {
    async query(params: Record<string, unknown>) {
      calls.push({ method: 'query', params })
      return { json: async () => json }
    },
    async insert(params: Record<string, unknown>) {
      calls.push({ method: 'insert', params })
      return {}
    },
  }
  return { calls, store: warehouseSharedLinkStore(client as unknown as ClickHouseClient) }
}

const squeeze = (sql: unknown) => String(sql).replace(/\s+/g, ' ')
const where = (sql: unknown) => squeeze(sql).split(' WHERE ')[1] ?? ''

const LINK = {
  link_id: '6f1c3d56-7f0c-4d8e-9d6e-2a1b3c4d5e6f',
  org_id: 'org-a',
  site_id: 'web',
  token_hash: 'a'.repeat(64),
  label: 'Board',
  created_by: 'a-admin',
  created_at: '2026-12-01 10:00:00.000',
  expires_at: '2026-12-31 10:00:00.000',
  revoked_at: null,
}

describe('warehouseSharedLinkStore: reads are scoped and take the latest version', () => {
  it('finds one link by id only within the given org', async () => {
    const { calls, store } = recordingClient([LINK])
    expect(await store.find('org-a', LINK.link_id)).toEqual(LINK)
    const [call] = calls
    expect(squeeze(call!.params['query'])).toMatch(/FROM atspark\.shared_links FINAL WHERE/)
    expect(where(call!.params['query'])).toBe('org_id = {org:String} AND link_id = {id:String} LIMIT 1')
    expect(call!.params['query_params']).toEqual({ org: 'org-a', id: LINK.link_id })
  })

  it('lists only the given org’s links, newest first, bounded', async () => {
    const { calls, store } = recordingClient([LINK])
    await store.list('org-b', 10)
    const [call] = calls
    expect(squeeze(call!.params['query'])).toMatch(/FROM atspark\.shared_links FINAL WHERE/)
    expect(where(call!.params['query'])).toBe('org_id = {org:String} ORDER BY created_at DESC, link_id LIMIT {limit:UInt32}')
    expect(call!.params['query_params']).toEqual({ org: 'org-b', limit: 10 })
  })

  it('looks a token up by its hash alone (bound), and refuses an ambiguous hash', async () => {
    const one = recordingClient([LINK])
    expect(await one.store.findByTokenHash(LINK.token_hash)).toEqual(LINK)
    const [call] = one.calls
    expect(squeeze(call!.params['query'])).toMatch(/FROM atspark\.shared_links FINAL WHERE/)
    expect(where(call!.params['query'])).toBe('token_hash = {hash:String} LIMIT 2')
    expect(call!.params['query_params']).toEqual({ hash: LINK.token_hash })
    expect(await recordingClient([]).store.findByTokenHash(LINK.token_hash)).toBeUndefined()
    expect(await recordingClient([LINK, { ...LINK, link_id: 'other' }]).store.findByTokenHash(LINK.token_hash)).toBeUndefined()
  })

  it('never selects the version column nor anything but the link’s own columns', async () => {
    const { calls, store } = recordingClient()
    await store.list('org-a', 5)
    expect(squeeze(calls[0]!.params['query'])).toMatch(
      /^SELECT link_id, org_id, site_id, token_hash, label, created_by, created_at, expires_at, revoked_at FROM/,
    )
  })

  it('writes link versions to shared_links and audit rows to audit_log', async () => {
    const { calls, store } = recordingClient()
    const row: SharedLinkRow = { ...LINK, version: 7 }
    await store.put(row)
    await store.audit([])
    await store.audit([{ time: LINK.created_at, actor_key_id: 'share:x', org_id: 'org-a', action: 'share_view', subject_hash: '', result: 'ok', detail: '{}' }])
    expect(calls.map((c) => [c.method, c.params['table']])).toEqual([
      ['insert', 'atspark.shared_links'],
      ['insert', 'atspark.audit_log'],
    ])
    expect(calls[0]!.params['values']).toEqual([row])
  })
})
