import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EventRow, exampleEventRow, toWarehouseTime, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWarehouseClient } from './client.js'
import { MIGRATIONS, migrate } from './migrations.js'

const ATTRIBUTION = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'channel'] as const
const T = toWarehouseTime(Date.UTC(2026, 10, 28, 12))

/** An events row; without attribution it is a row as written before migration 10. */
function event(id: string, attribution: Partial<Pick<EventRow, (typeof ATTRIBUTION)[number]>>): Partial<EventRow> {
  // Migrations 10 and 12 added these columns: a row written before them lacks them.
  const { utm_source: _s, utm_medium: _m, utm_campaign: _c, utm_term: _t, utm_content: _n, channel: _ch, entry_page: _e, ...before } = exampleEventRow({
    event_id: id,
    ts: T,
    received_at: T,
    anon_id: 'a1',
    session_id: 's1',
    url_path: '/pricing',
  })
  return { ...before, ...attribution }
}

async function rows<R>(client: ClickHouseClient, query: string): Promise<R[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<R>()
}

let dir: string
let client: ClickHouseClient
let upgraded: number[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atspark-migrations-'))
  client = createWarehouseClient({ dataDir: dir })
  // A warehouse as released before migration 10, already holding an event.
  await migrate(
    client,
    MIGRATIONS.filter((m) => m.version <= 9),
  )
  await client.insert({ table: `${DB}.events`, values: [event('00000000-0000-4000-8000-000000000001', {})], format: 'JSONEachRow' })
  upgraded = (await migrate(client)).applied
}, 120_000)

afterAll(async () => {
  await client?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('migrations 10 (events attribution) and 11 (shared_links) over chDB', () => {
  it('apply once on an existing warehouse, and a second run applies nothing', async () => {
    // 10, 11 and any later ones.
    expect(upgraded).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v >= 10))
    expect(upgraded.slice(0, 2)).toEqual([10, 11])
    expect(await migrate(client)).toEqual({ applied: [], current: Math.max(...upgraded) })
  })

  it('add the six attribution columns as LowCardinality(String) with default empty, which old rows read as empty', async () => {
    const cols = await rows<{ name: string; type: string; default_kind: string; default_expression: string }>(
      client,
      `SELECT name, type, default_kind, default_expression FROM system.columns WHERE database = '${DB}' AND table = 'events' AND name IN (${ATTRIBUTION.map((c) => `'${c}'`).join(', ')}) ORDER BY position`,
    )
    expect(cols).toEqual(ATTRIBUTION.map((name) => ({ name, type: 'LowCardinality(String)', default_kind: 'DEFAULT', default_expression: "''" })))
    const [old] = await rows<Record<string, string>>(client, `SELECT ${ATTRIBUTION.join(', ')} FROM ${DB}.events WHERE event_id = '00000000-0000-4000-8000-000000000001'`)
    expect(old).toEqual(Object.fromEntries(ATTRIBUTION.map((c) => [c, ''])))
  })

  it('store a row with attribution as inserted', async () => {
    const tagged = { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'spring sale', utm_term: 'web analytics', utm_content: 'header-cta', channel: 'Email' } as const
    await client.insert({ table: `${DB}.events`, values: [event('00000000-0000-4000-8000-000000000002', tagged)], format: 'JSONEachRow' })
    const [row] = await rows<Record<string, string>>(client, `SELECT ${ATTRIBUTION.join(', ')} FROM ${DB}.events WHERE event_id = '00000000-0000-4000-8000-000000000002'`)
    expect(row).toEqual(tagged)
  })

  it('have statements that run again without error (a run cut short repeats them)', async () => {
    for (const m of MIGRATIONS.filter((x) => x.version >= 10)) for (const statement of m.statements) await client.command({ query: statement })
    const [n] = await rows<{ n: string }>(client, `SELECT toString(count()) AS n FROM ${DB}.events`)
    expect(n?.n).toBe('2')
  })

  it('create shared_links keeping the latest version of a link, with a TTL one month past expiry', async () => {
    const link = {
      link_id: 'l1',
      org_id: 'acme',
      site_id: 'web',
      token_hash: 'a'.repeat(64),
      label: 'Board',
      created_by: 'key-admin',
      created_at: T,
      expires_at: toWarehouseTime(Date.UTC(2026, 11, 28, 12)),
    }
    await client.insert({ table: `${DB}.shared_links`, values: [{ ...link, revoked_at: null, version: 1 }], format: 'JSONEachRow' })
    await client.insert({ table: `${DB}.shared_links`, values: [{ ...link, revoked_at: toWarehouseTime(Date.UTC(2026, 10, 29)), version: 2 }], format: 'JSONEachRow' })
    const latest = await rows<{ link_id: string; revoked_at: string | null; version: string }>(
      client,
      `SELECT link_id, revoked_at, toString(version) AS version FROM ${DB}.shared_links FINAL WHERE org_id = 'acme'`,
    )
    expect(latest).toEqual([{ link_id: 'l1', revoked_at: '2026-11-29 00:00:00.000', version: '2' }])
    const [ddl] = await rows<{ statement: string }>(client, `SHOW CREATE TABLE ${DB}.shared_links`)
    expect(ddl?.statement).toMatch(/ENGINE = ReplacingMergeTree\(version\)/)
    expect(ddl?.statement).toMatch(/ORDER BY \(org_id, link_id\)/)
    expect(ddl?.statement).toMatch(/TTL toDateTime\(expires_at\) \+ toIntervalMonth\(1\)/)
  })
})
