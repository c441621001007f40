import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WireEvent } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { scrape, sum } from './support/prometheus.js'
import { openWarehouse, rows } from './support/warehouse.js'

/** Two orgs whose sites and visitors use the same ids: `web`, one session id, one anon id. */
const KEYS = { a: 'pk_visit_a', b: 'pk_visit_b' } as const
const SESSION = 'sess_shared'
const SHOP = 'https://shop.example.com'

function twoOrgTenantsFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-visit-tenants-')), 'tenants.json')
  const site = (key: string) => ({ id: 'web', write_key: key, allowed_origins: [TEST_ORIGIN], consent_mode: 'opt-out' })
  writeFileSync(file, JSON.stringify({ orgs: [{ id: 'org-a', name: 'A', sites: [site(KEYS.a)] }, { id: 'org-b', name: 'B', sites: [site(KEYS.b)] }] }))
  return file
}

/** One event of the shared session at `secondsAgo`, on `path`, from `referrer`. */
function visitEvent(secondsAgo: number, t: WireEvent['t'], url: string, referrer: string, extra: Partial<WireEvent> = {}): WireEvent {
  return event({ t, ts: Date.now() - secondsAgo * 1000, a: 'anon_shared', s: SESSION, u: url, r: referrer, ...extra })
}

/** The visit values of every stored event, by org and session. */
interface Stamped {
  org_id: string
  session_id: string
  url_path: string
  channel: string
  utm_source: string
  utm_medium: string
  utm_campaign: string
  entry_page: string
}
async function stamped(warehouse: ClickHouseClient): Promise<Stamped[]> {
  return rows<Stamped>(
    warehouse,
    'SELECT org_id, session_id, url_path, channel, utm_source, utm_medium, utm_campaign, entry_page FROM atspark.events ORDER BY org_id, session_id, ts',
  )
}

const A_VISIT = { channel: 'Email', utm_source: 'newsletter', utm_medium: 'email', utm_campaign: 'spring', entry_page: '/landing' }
const B_VISIT = { channel: 'Organic Search', utm_source: '', utm_medium: '', utm_campaign: '', entry_page: '/b-home' }

async function send(ingest: string, key: string, events: WireEvent[]): Promise<void> {
  const res = await post(ingest, batch(events, { k: key }), { origin: TEST_ORIGIN })
  expect(res.status, await res.text()).toBe(202)
}

let pipeline: RunningPipeline | undefined
let d: Distributed | undefined
let warehouse: ClickHouseClient | undefined
afterEach(async () => {
  await warehouse?.close()
  warehouse = undefined
  await pipeline?.stop()
  pipeline = undefined
  await d?.stopAll()
  d = undefined
})

describe('visit attribution stamped at write time', () => {
  it("embedded: a visit sent in three batches stores every event with its landing's channel, utm_* and entry_page, per org", async () => {
    pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: twoOrgTenantsFile(), LOG_LEVEL: 'warn' })
    const ingest = pipeline.ingest
    // 1: org a lands from a newsletter (tagged URL, webmail referrer) on /landing; org b, same site and session ids,
    //    lands from a search engine on /b-home; and a sessionless event keeps its own values.
    await send(ingest, KEYS.a, [
      visitEvent(60, 'pageview', `${SHOP}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring`, 'https://mail.google.com/'),
      event({ ts: Date.now() - 55_000, s: undefined, u: `${SHOP}/solo`, r: 'https://blog.example.org/post' }),
    ])
    await send(ingest, KEYS.b, [visitEvent(90, 'pageview', `${SHOP}/b-home`, 'https://www.google.com/search?q=shop')])
    // 2 and 3: later pages and events of both visits, each from an internal referrer (their own channel would be Internal).
    await send(ingest, KEYS.a, [visitEvent(50, 'pageview', `${SHOP}/pricing`, `${SHOP}/landing`), visitEvent(45, 'click', `${SHOP}/pricing`, `${SHOP}/landing`)])
    await send(ingest, KEYS.b, [visitEvent(40, 'pageview', `${SHOP}/b-two`, `${SHOP}/b-home`)])
    await send(ingest, KEYS.a, [visitEvent(30, 'pageview', `${SHOP}/signup?utm_source=other`, `${SHOP}/pricing`), visitEvent(29, 'custom', `${SHOP}/signup`, '', { n: 'signup' })])

    // Both visits were new without asking the warehouse (the filter of written visits, rebuilt at start, lacks them);
    // their later batches came from memory.
    const metrics = await scrape(pipeline.backoffice)
    expect(sum(metrics, 'atspark_processor_visit_sessions_new_total')).toBe(2)
    expect(sum(metrics, 'atspark_processor_visit_lookups_total')).toBe(0)
    expect(sum(metrics, 'atspark_processor_visit_cache_entries')).toBe(2)

    expect(await pipeline.stop()).toBe(0)
    warehouse = openWarehouse(pipeline.dataDir)
    expect(await stamped(warehouse)).toEqual([
      { org_id: 'org-a', session_id: '', url_path: '/solo', channel: 'Referral', utm_source: '', utm_medium: '', utm_campaign: '', entry_page: '' },
      ...['/landing', '/pricing', '/pricing', '/signup', '/signup'].map((url_path) => ({ org_id: 'org-a', session_id: SESSION, url_path, ...A_VISIT })),
      ...['/b-home', '/b-two'].map((url_path) => ({ org_id: 'org-b', session_id: SESSION, url_path, ...B_VISIT })),
    ])
  })

  it('Kafka: after the processor is stopped and started mid-visit, the next batch takes the visit values from the warehouse', async () => {
    d = await startDistributed(inject('kafkaBrokers'))
    await send(d.ingestUrl, WRITE_KEYS.a, [
      visitEvent(60, 'pageview', `${SHOP}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring`, 'https://mail.google.com/'),
    ])
    await send(d.ingestUrl, WRITE_KEYS.b, [visitEvent(90, 'pageview', `${SHOP}/b-home`, 'https://www.google.com/search?q=shop')])
    await d.waitDrained()
    expect(await d.processor.stop()).toBe(0)
    await d.restartProcessor()

    // The restarted process remembers nothing: the later pages, and a late event older than the landing (an offline
    // queue's, tagged otherwise), take the stored visit values.
    await send(d.ingestUrl, WRITE_KEYS.a, [
      visitEvent(50, 'pageview', `${SHOP}/pricing`, `${SHOP}/landing`),
      visitEvent(45, 'click', `${SHOP}/pricing`, `${SHOP}/landing`),
      visitEvent(120, 'pageview', `${SHOP}/early?utm_source=ads&utm_medium=cpc`, 'https://www.bing.com/'),
      // A visit starting now: the rebuilt filter shows it was never written, so it needs no lookup.
      visitEvent(35, 'pageview', `${SHOP}/fresh`, 'https://duckduckgo.com/', { s: 'sess_fresh' }),
    ])
    await send(d.ingestUrl, WRITE_KEYS.b, [visitEvent(40, 'pageview', `${SHOP}/b-two`, `${SHOP}/b-home`)])
    await d.waitDrained()
    // The restarted process rebuilt its filter of written visits when it joined the group: the two continued visits
    // may be stored, so it asked, and found them; the fresh one it knew to be new.
    const metrics = await scrape(d.backofficeUrl)
    expect(sum(metrics, 'atspark_processor_visit_sessions_new_total')).toBe(1)
    expect(sum(metrics, 'atspark_processor_visit_sessions_looked_up_total')).toBe(2)
    expect(sum(metrics, 'atspark_processor_visit_sessions_found_total')).toBe(2)
    expect(sum(metrics, 'atspark_processor_visit_lookups_total')).toBeGreaterThanOrEqual(1)
    expect(await d.processor.stop()).toBe(0)

    warehouse = openWarehouse(d.dataDir)
    expect(await stamped(warehouse)).toEqual([
      { org_id: 'org-a', session_id: 'sess_fresh', url_path: '/fresh', channel: 'Organic Search', utm_source: '', utm_medium: '', utm_campaign: '', entry_page: '/fresh' },
      ...['/early', '/landing', '/pricing', '/pricing'].map((url_path) => ({ org_id: 'org-a', session_id: SESSION, url_path, ...A_VISIT })),
      ...['/b-home', '/b-two'].map((url_path) => ({ org_id: 'org-b', session_id: SESSION, url_path, ...B_VISIT })),
    ])
  })
})
