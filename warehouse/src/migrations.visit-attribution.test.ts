import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type EventRow, exampleEventRow, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWarehouseClient } from './client.js'
import { MIGRATIONS, migrate } from './migrations.js'

const VISIT = ['channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'entry_page'] as const
type Visit = Record<(typeof VISIT)[number], string>

let seq = 0
/** A row as the processor wrote it before migration 12: each event with its own channel and utm_* (no entry_page column yet). */
function stored(org: string, session: string, second: number, type: string, path: string, own: Partial<Visit> = {}, id?: string) {
  seq++
  // Written before migration 12: no entry_page column yet.
  const { entry_page: _, ...row } = exampleEventRow({
    event_id: id ?? `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    org_id: org,
    type: type as EventRow['type'],
    ts: `2026-12-01 10:00:${String(second).padStart(2, '0')}.000`,
    received_at: '2026-12-01 10:01:00.000',
    anon_id: `${org}-visitor`,
    session_id: session,
    url_path: path,
    channel: 'Internal',
    ...own,
  } as Partial<EventRow>)
  return row
}

const EMAIL = { channel: 'Email', utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'spring', utm_term: 'analytics', utm_content: 'cta' }
const SEARCH = { channel: 'Organic Search', utm_source: 'g', utm_medium: 'organic', utm_campaign: '', utm_term: 'q', utm_content: '' }
const TIE_LOSER = { channel: 'Paid Social', utm_source: 'fb', utm_medium: 'cpc', utm_campaign: 'late', utm_term: '', utm_content: 'x' }

async function visitValues(client: ClickHouseClient): Promise<Record<string, string>[]> {
  const rs = await client.query({
    query: `SELECT org_id, session_id, toString(event_id) AS id, ${VISIT.join(', ')} FROM ${DB}.events ORDER BY org_id, session_id, ts, event_id`,
    format: 'JSONEachRow',
  })
  return rs.json<Record<string, string>>()
}

let dir: string
let client: ClickHouseClient
let applied: number[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atspark-migration-12-'))
  client = createWarehouseClient({ dataDir: dir })
  // A warehouse as released before migration 12, holding rows with per-event attribution.
  await migrate(
    client,
    MIGRATIONS.filter((m) => m.version <= 11),
  )
  const rows = [
    // acme/web/s1: the first event is a click from the newsletter; the first pageview comes a second later.
    stored('acme', 's1', 1, 'click', '/promo', EMAIL),
    stored('acme', 's1', 2, 'pageview', '/landing'),
    stored('acme', 's1', 3, 'pageview', '/pricing'),
    // beta/web/s1: the same site and session ids in another org, starting earlier; two events at the same first ts, the lower id first.
    stored('beta', 's1', 0, 'pageview', '/b-first', SEARCH, '00000000-0000-4000-8000-0000000000a1'),
    stored('beta', 's1', 0, 'pageview', '/b-tie', TIE_LOSER, '00000000-0000-4000-8000-0000000000a2'),
    stored('beta', 's1', 5, 'pageview', '/b-two', { channel: 'Direct' }),
    // acme/web/s2: no pageview at all.
    stored('acme', 's2', 4, 'click', '/app', { channel: 'Referral', utm_source: 'partner' }),
    stored('acme', 's2', 6, 'feature', '/app', { channel: 'Direct' }),
    // Sessionless events keep their own values.
    stored('acme', '', 0, 'pageview', '/solo-1', { channel: 'Referral', utm_source: 'blog' }),
    stored('acme', '', 9, 'pageview', '/solo-2', { channel: 'Direct' }),
  ]
  await client.insert({ table: `${DB}.events`, values: rows, format: 'JSONEachRow' })
  applied = (await migrate(client)).applied
}, 120_000)

afterAll(async () => {
  await client?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const noTags = { utm_source: '', utm_medium: '', utm_campaign: '', utm_term: '', utm_content: '' }
/** What every row must hold after the backfill, in (org, session, ts, id) order. */
const EXPECTED = [
  { org_id: 'acme', session_id: '', ...noTags, channel: 'Referral', utm_source: 'blog', entry_page: '' },
  { org_id: 'acme', session_id: '', ...noTags, channel: 'Direct', entry_page: '' },
  ...[1, 2, 3].map(() => ({ org_id: 'acme', session_id: 's1', ...EMAIL, entry_page: '/landing' })),
  ...[1, 2].map(() => ({ org_id: 'acme', session_id: 's2', ...noTags, channel: 'Referral', utm_source: 'partner', entry_page: '' })),
  ...[1, 2, 3].map(() => ({ org_id: 'beta', session_id: 's1', ...SEARCH, entry_page: '/b-first' })),
]

describe('migration 12 (events_visit_attribution) over chDB', () => {
  it('is applied once, after 11', async () => {
    expect(applied).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v >= 12))
    expect(applied[0]).toBe(12)
    expect(MIGRATIONS.find((m) => m.version === 12)?.name).toBe('events_visit_attribution')
  })

  it('adds entry_page as LowCardinality(String) with default empty', async () => {
    const rs = await client.query({
      query: `SELECT type, default_kind, default_expression FROM system.columns WHERE database = '${DB}' AND table = 'events' AND name = 'entry_page'`,
      format: 'JSONEachRow',
    })
    expect(await rs.json()).toEqual([{ type: 'LowCardinality(String)', default_kind: 'DEFAULT', default_expression: "''" }])
  })

  it("backfills every event of a visit with its first event's channel and utm_*, and its first pageview as entry_page, per org", async () => {
    const rows = await visitValues(client)
    expect(rows.map(({ id: _id, ...rest }) => rest)).toEqual(EXPECTED)
  })

  it('runs again harmlessly (a run cut short repeats it): same values, no scratch table left, no failed mutation', async () => {
    const statements = MIGRATIONS.find((m) => m.version === 12)?.statements ?? []
    // Cut short once the scratch table is filled (before the mutation), then run whole, as the next start does.
    for (const statement of statements.slice(0, 4)) await client.command({ query: statement })
    for (const statement of statements) await client.command({ query: statement })
    const rows = await visitValues(client)
    expect(rows.map(({ id: _id, ...rest }) => rest)).toEqual(EXPECTED)
    expect(await migrate(client)).toEqual({ applied: [], current: Math.max(...MIGRATIONS.map((m) => m.version)) })
    const tables = await (await client.query({ query: `SELECT name FROM system.tables WHERE database = '${DB}' AND name LIKE 'visit%'`, format: 'JSONEachRow' })).json()
    expect(tables).toEqual([])
    const mutations = await (
      await client.query({ query: `SELECT is_done, latest_fail_reason FROM system.mutations WHERE database = '${DB}' AND table = 'events'`, format: 'JSONEachRow' })
    ).json()
    expect(mutations).toEqual([
      { is_done: 1, latest_fail_reason: '' },
      { is_done: 1, latest_fail_reason: '' },
    ])
  })
})
