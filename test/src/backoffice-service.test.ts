import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { freePort } from './support/ports.js'
import { ENTRY, type Service, spawnService } from './support/service.js'
import { openWarehouse, rows } from './support/warehouse.js'

// The distributed layout: `processor/dist/main.js` serves operators only, and the back office is its own
// process (`backoffice/dist/main.js`), so analysts' queries never share a process with the Kafka consumer.
// chDB lets one process open a data dir, so the two take turns on it here; with a ClickHouse server they run side by side.

const PRIVACY_KEY = `sk_${randomBytes(32).toString('base64url')}`
const ANALYST_KEY = `sk_${randomBytes(32).toString('base64url')}`
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')

let d: Distributed
let tenantsFile: string

beforeAll(async () => {
  tenantsFile = join(mkdtempSync(join(tmpdir(), 'atspark-backoffice-service-')), 'tenants.json')
  const site = [{ id: 'web', write_key: WRITE_KEYS.a, allowed_origins: [TEST_ORIGIN], consent_mode: 'opt-out' }]
  const api_keys = [
    { id: 'a-privacy', hash: sha256(PRIVACY_KEY), role: 'privacy' },
    { id: 'a-analyst', hash: sha256(ANALYST_KEY), role: 'analyst' },
  ]
  writeFileSync(tenantsFile, JSON.stringify({ orgs: [{ id: 'org-a', name: 'A', api_keys, sites: site }] }))
  d = await startDistributed(inject('kafkaBrokers'), { ATSPARK_TENANTS_FILE: tenantsFile })
})

afterAll(async () => {
  await d?.stopAll()
})

async function send(events: ReturnType<typeof event>[]): Promise<void> {
  const res = await post(d.ingestUrl, batch(events, { k: WRITE_KEYS.a }), { origin: TEST_ORIGIN })
  expect(res.status).toBe(202)
  await res.arrayBuffer()
  await d.waitDrained()
}

async function startBackoffice(): Promise<{ service: Service; url: string }> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const service = await spawnService(
    ENTRY.backoffice,
    { ATSPARK_TENANTS_FILE: tenantsFile, ATSPARK_DATA_DIR: d.dataDir, BACKOFFICE_PORT: String(port), LOG_LEVEL: 'info' },
    [`${url}/readyz`],
  )
  return { service, url }
}

describe('the back office as its own service', () => {
  const user = 'erin@a.example'

  it('the processor’s port answers operators only: health, readiness and metrics, no stats, privacy or dashboard', async () => {
    await send([event({ uid: user, a: 'anon_erin' }), event({ uid: user, a: 'anon_erin' })])
    expect((await fetch(`${d.backofficeUrl}/healthz`)).status).toBe(200)
    expect(await (await fetch(`${d.backofficeUrl}/readyz`)).json()).toEqual({ ready: true })
    expect(await (await fetch(`${d.backofficeUrl}/metrics`)).text()).toContain('atspark_processor_rows_written_total')
    const auth = { authorization: `Bearer ${ANALYST_KEY}` }
    for (const path of ['/v1/stats/sites', '/v1/privacy/requests', '/dashboard', '/openapi.json']) {
      const res = await fetch(`${d.backofficeUrl}${path}`, { headers: auth })
      expect({ path, status: res.status }).toEqual({ path, status: 404 })
    }
  })

  it('serves analysts and privacy requests from the warehouse the processor wrote, and its suppressions reach the processor', async () => {
    expect(await d.processor.stop()).toBe(0)
    const backoffice = await startBackoffice()
    try {
      const privacy = (method: string, path: string, body?: unknown) =>
        fetch(`${backoffice.url}/v1/privacy/${path}`, {
          method,
          headers: { authorization: `Bearer ${PRIVACY_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      // The same pseudonym key (the data dir's): a user id finds the user_pid the processor stored.
      const exported = await privacy('GET', `export?user_id=${encodeURIComponent(user)}&format=json`)
      expect(exported.status).toBe(200)
      expect(((await exported.json()) as { events: unknown[] }).events).toHaveLength(2)
      const sites = await fetch(`${backoffice.url}/v1/stats/sites`, { headers: { authorization: `Bearer ${ANALYST_KEY}` } })
      expect(sites.status).toBe(200)
      expect(JSON.stringify(await sites.json())).toContain('"web"')
      expect((await fetch(`${backoffice.url}/v1/stats/sites`)).status).toBe(401)
      // A refused privacy call is counted on the back office's own /metrics.
      expect((await fetch(`${backoffice.url}/v1/privacy/requests`)).status).toBe(401)
      expect(await (await fetch(`${backoffice.url}/metrics`)).text()).toMatch(/atspark_backoffice_refused_total\{result="unauthorized"\} [1-9]/)
      expect((await privacy('POST', 'suppress', { user_id: user })).status).toBe(200)
    } finally {
      expect(await backoffice.service.stop()).toBe(0)
    }
    // A new processor loads the suppression from atspark.suppressions and drops the user's next events.
    await d.restartProcessor()
    const other = event({ a: 'anon_other' })
    await send([event({ uid: user, a: 'anon_erin' }), other])
    expect(await d.processor.stop()).toBe(0)
    const warehouse = openWarehouse(d.dataDir)
    try {
      const stored = await rows<{ event_id: string; user_pid: string }>(warehouse, "SELECT event_id, user_pid FROM atspark.events WHERE org_id = 'org-a' ORDER BY ts")
      expect(stored.filter((r) => r.user_pid !== '')).toHaveLength(2)
      expect(stored.map((r) => r.event_id)).toContain(other.id)
    } finally {
      await warehouse.close()
    }
  })
})
