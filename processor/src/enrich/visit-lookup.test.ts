import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { createWarehouseClient, migrate } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { visitKey } from './visit-attribution.js'
import { warehouseStoredVisits, warehouseVisitLookup } from './visit-lookup.js'

let seq = 0
/** A stored events row with its visit's values, as the stitcher writes it. */
function stored(org: string, site: string, session: string, ts: string, channel: string, utm_source: string, entry_page: string) {
  seq++
  return {
    event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    org_id: org,
    site_id: site,
    type: 'pageview',
    ts,
    received_at: ts,
    session_id: session,
    url_path: '/p',
    device_type: 'desktop',
    channel,
    utm_source,
    utm_campaign: `${org}-${site}`,
    entry_page,
  }
}

let dir: string
let client: ClickHouseClient

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atspark-visit-lookup-'))
  client = createWarehouseClient({ dataDir: dir })
  await migrate(client)
  await client.insert({
    table: `${DB}.events`,
    format: 'JSONEachRow',
    values: [
      // acme/web/s1 started before its first pageview: its first rows hold no entry_page.
      stored('acme', 'web', 's1', '2026-12-01 10:00:00.000', 'Email', 'newsletter', ''),
      stored('acme', 'web', 's1', '2026-12-01 10:00:05.000', 'Email', 'newsletter', '/landing'),
      stored('acme', 'web', 's1', '2026-12-01 10:00:09.000', 'Email', 'newsletter', '/landing'),
      // The same session id under another org and another site.
      stored('beta', 'web', 's1', '2026-12-01 09:00:00.000', 'Organic Search', 'g', '/beta'),
      stored('acme', 'docs', 's1', '2026-12-01 09:00:00.000', 'Referral', '', '/docs'),
      // A session last seen three days before the batch: outside the window.
      stored('acme', 'web', 'old', '2026-11-28 10:00:00.000', 'Direct', '', '/old'),
      // Exactly two days before: inside.
      stored('acme', 'web', 'edge', '2026-11-29 10:00:00.000', 'Direct', '', '/edge'),
    ],
  })
}, 120_000)

afterAll(async () => {
  await client?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('warehouseVisitLookup over chDB', () => {
  it('reads the stored values of the asked visits only, per org and site, within two days of the batch', async () => {
    const lookup = warehouseVisitLookup(client)
    const keys = ['s1', 'old', 'edge', 'none'].map((session_id) => ({ org_id: 'acme', site_id: 'web', session_id }))
    const found = await lookup(keys, { from: '2026-12-01 10:00:00.000', to: '2026-12-01 10:30:00.000' })
    expect(Object.fromEntries(found)).toEqual({
      [visitKey(keys[0]!)]: { channel: 'Email', utm_source: 'newsletter', utm_medium: '', utm_campaign: 'acme-web', utm_term: '', utm_content: '', entry_page: '/landing' },
      [visitKey(keys[2]!)]: { channel: 'Direct', utm_source: '', utm_medium: '', utm_campaign: 'acme-web', utm_term: '', utm_content: '', entry_page: '/edge' },
    })
  })

  it('keeps visits of the same session id in other orgs and sites apart when asked together', async () => {
    const keys = [
      { org_id: 'beta', site_id: 'web', session_id: 's1' },
      { org_id: 'acme', site_id: 'docs', session_id: 's1' },
    ]
    const found = await warehouseVisitLookup(client)(keys, { from: '2026-12-01 09:00:00.000', to: '2026-12-01 09:00:00.000' })
    expect([...found.keys()].sort()).toEqual(keys.map(visitKey).sort())
    expect(found.get(visitKey(keys[0]!))?.channel).toBe('Organic Search')
    expect(found.get(visitKey(keys[1]!))?.channel).toBe('Referral')
    // acme/web/s1 matches the three lists (org acme, site web, session s1) but was not asked.
    expect(found.has(visitKey({ org_id: 'acme', site_id: 'web', session_id: 's1' }))).toBe(false)
  })

  it('lists each visit with events from the given time on, once, per org and site (the rebuild of written visits)', async () => {
    const keys = await warehouseStoredVisits(client)('2026-11-29 10:00:00.000')
    expect(keys.map(visitKey).sort()).toEqual(
      [
        { org_id: 'acme', site_id: 'web', session_id: 's1' },
        { org_id: 'beta', site_id: 'web', session_id: 's1' },
        { org_id: 'acme', site_id: 'docs', session_id: 's1' },
        { org_id: 'acme', site_id: 'web', session_id: 'edge' },
      ]
        .map(visitKey)
        .sort(),
    )
  })
})
