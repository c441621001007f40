import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createIngestMetrics } from '@atspark/ingest'
import { createLogger, TenantDirectory } from '@atspark/runtime'
import { createBackofficeApp } from '@atspark/backoffice'
import { createWarehouseClient, migrate } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rows } from './support/warehouse.js'

// The stats API's input checks against the real engine (chDB, every migration): a bad date or zone is a
// 400 with its code before the engine sees it, a zone is accepted exactly when both the engine and the
// runtime know it (in any case), and a query the engine fails leaves a log line with its id and code only.

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const KEY = `sk_${randomBytes(32).toString('base64url')}`
// Distinctive ids, so a leak of a parameter into a log line cannot hide behind a common word.
const ORG = 'org-qzx'
const SITE = 'site-qzx'
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: ORG,
      name: 'Q',
      api_keys: [{ id: 'q-analyst', hash: sha256(KEY), role: 'analyst' }],
      sites: [{ id: SITE, write_key: 'pk_qzx', allowed_origins: ['https://q.example'], consent_mode: 'opt-out' }],
    },
  ],
})

let dir: string
let warehouse: ClickHouseClient
let app: ReturnType<typeof createBackofficeApp>
const logged: string[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atspark-backoffice-input-'))
  warehouse = createWarehouseClient({ dataDir: dir })
  await migrate(warehouse)
  const logger = createLogger('backoffice-input', 'info', { write: (line: string) => void logged.push(line) })
  app = createBackofficeApp({ warehouse, registries: [createIngestMetrics().registry], stats: { warehouse, tenants: () => tenants, logger, k: 5 } })
})

afterAll(async () => {
  await warehouse?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const get = async (path: string) => {
  const res = await app.request(path, { headers: { authorization: `Bearer ${KEY}` } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** Every stats endpoint that reads a range, source=raw included. */
const RANGED = [
  `/v1/stats/timeseries?site=${SITE}`,
  `/v1/stats/timeseries?site=${SITE}&source=raw`,
  `/v1/stats/timeseries?site=${SITE}&bounce=true`,
  `/v1/stats/breakdown?site=${SITE}&dimension=url_path`,
  `/v1/stats/breakdown?site=${SITE}&dimension=url_path&source=raw`,
  `/v1/stats/adoption?site=${SITE}&feature=export`,
  `/v1/stats/adoption?site=${SITE}&feature=export&source=raw`,
  `/v1/stats/adoption/cohorts?site=${SITE}&feature=export`,
  `/v1/stats/funnel?site=${SITE}&steps=a,b`,
  `/v1/stats/consent?site=${SITE}`,
]
const ZONED = RANGED.filter((p) => p.includes('/timeseries') || p.includes('/adoption?'))
/** A recent range, inside the raw retention whenever the suite runs. */
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
const RANGE = `&from=${day(-3)}&to=${day(1)}`

describe('stats input on the real engine', () => {
  it('every endpoint answers a valid request', async () => {
    for (const path of RANGED) expect((await get(`${path}${RANGE}`)).status, path).toBe(200)
  })

  it.each([
    ['from', '2026-02-30', 'invalid_date'],
    ['to', '2026-13-01', 'invalid_date'],
    ['from', '2026-11-31', 'invalid_date'],
    ['to', '2026-11-20T24:00', 'invalid_date'],
    ['from', '1969-12-31', 'invalid_date'],
  ])('%s=%s is 400 %s on every endpoint, and nothing is logged', async (param, value, code) => {
    logged.length = 0
    const other = param === 'from' ? `&to=${day(1)}` : `&from=${day(-3)}`
    for (const path of RANGED) expect(await get(`${path}&${param}=${value}${other}`), path).toMatchObject({ status: 400, body: { error: code, param } })
    expect(logged).toEqual([])
  })

  it('a zone in another case is answered in the engine’s spelling; an unknown zone is 400 invalid_timezone', async () => {
    for (const path of ZONED) {
      expect(await get(`${path}${RANGE}&tz=america/new_york`), path).toMatchObject({ status: 200, body: { tz: 'America/New_York' } })
      expect(await get(`${path}${RANGE}&tz=Nowhere/Land`), path).toMatchObject({ status: 400, body: { error: 'invalid_timezone', param: 'tz' } })
    }
  })

  it('a zone is accepted exactly when the engine and the runtime both know it, in any case, and then the engine answers', async () => {
    const engine = (await rows<{ time_zone: string }>(warehouse, 'SELECT time_zone FROM system.time_zones')).map((r) => r.time_zone)
    const engineLower = new Set(engine.map((z) => z.toLowerCase()))
    const runtimeKnows = (tz: string) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz })
        return true
      } catch {
        return false
      }
    }
    const names = [...new Set([...engine, ...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'US/Eastern', 'Asia/Kolkata', 'Asia/Calcutta', 'Etc/GMT+5'])].sort()
    // Every name as spelled; other cases for every 25th name and for those only one side knows (a case variant asks the same query).
    const oneSided = names.filter((z) => !engine.includes(z) || !runtimeKnows(z))
    const recased = [...names.filter((_, i) => i % 25 === 0), ...oneSided].flatMap((z) => [z.toLowerCase(), z.toUpperCase()])
    const candidates = [...new Set([...names, ...recased])]
    const refused: string[] = []
    for (const tz of candidates) {
      const { status, body } = await get(`/v1/stats/timeseries?site=${SITE}&from=2026-01-05&to=2026-01-06&tz=${encodeURIComponent(tz)}`)
      const expected = engineLower.has(tz.toLowerCase()) && runtimeKnows(tz)
      if (expected) {
        expect({ tz, status }).toEqual({ tz, status: 200 })
        // Asked in the engine's spelling of the zone.
        expect(engine).toContain(body.tz)
      } else {
        expect({ tz, status, body }).toMatchObject({ tz, status: 400, body: { error: 'invalid_timezone', param: 'tz' } })
        refused.push(tz)
      }
    }
    // The lists do differ (a zone newer than the engine's tzdata, an engine-only name), so the check has something to do.
    console.log(`[zones] ${candidates.length} names tried, ${refused.length} refused: ${[...new Set(refused.map((z) => z.toLowerCase()))].join(', ')}`)
    expect(refused.length).toBeGreaterThan(0)
  })

  it('a query the engine fails: 500 with its query id, a log line with the id and code, never the SQL or a parameter', async () => {
    await warehouse.command({ query: 'RENAME TABLE atspark.consent_log TO atspark.consent_log_away' })
    try {
      logged.length = 0
      const { status, body } = await get(`/v1/stats/consent?site=${SITE}&from=2026-01-05&to=2026-01-09`)
      expect(status).toBe(500)
      expect(body).toMatchObject({ error: 'internal', query_id: expect.stringMatching(/^[0-9a-f-]{36}$/) })
      expect(logged).toHaveLength(1)
      const line = JSON.parse(logged[0] as string) as Record<string, unknown>
      expect(line).toMatchObject({ msg: 'stats query failed', query_id: body.query_id, code: '60', type: 'UNKNOWN_TABLE', status: 500 })
      for (const text of [logged[0] as string, JSON.stringify(body)]) expect(text).not.toMatch(/SELECT|atspark\.|consent_log|parseDateTime|In scope|org-qzx|site-qzx|2026-01-0/)
    } finally {
      await warehouse.command({ query: 'RENAME TABLE atspark.consent_log_away TO atspark.consent_log' })
    }
  })
})
