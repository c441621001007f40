import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

const SEEDED = '"msg":"demo traffic seeded"'

let pipeline: RunningPipeline
let warehouse: ClickHouseClient
let exitCode: number | null
let seededLine = ''
let secondStart = ''

/** Waits for a log line of the running pipeline. */
async function waitForLog(p: RunningPipeline, needle: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const line = p
      .output()
      .split('\n')
      .find((l) => l.includes(needle))
    if (line) return line
    if (Date.now() > deadline) throw new Error(`no "${needle}" within ${timeoutMs} ms:\n${p.output()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

beforeAll(async () => {
  pipeline = await startPipeline({ DEMO_TRAFFIC: '1' })
  seededLine = await waitForLog(pipeline, SEEDED, 90_000)
  exitCode = await pipeline.stop()
  // A restart on the same data dir finds demo events and must not seed again.
  const again = await startPipeline({ DEMO_TRAFFIC: '1', ATSPARK_DATA_DIR: pipeline.dataDir })
  await new Promise((r) => setTimeout(r, 1_000))
  secondStart = again.output()
  await again.stop()
  warehouse = openWarehouse(pipeline.dataDir)
})

afterAll(async () => {
  await warehouse?.close()
})

describe('npm start with DEMO_TRAFFIC=1 and the demo tenant', () => {
  it('logs the seed with its counts and stops cleanly', () => {
    const logged = JSON.parse(seededLine) as { events: number; receipts: number; seconds: number }
    expect(logged.events).toBeGreaterThan(5_000)
    expect(logged.receipts).toBeGreaterThan(100)
    expect(exitCode).toBe(0)
  })

  it('fills the warehouse with thousands of events over 30 days', async () => {
    const [stats] = await rows<{ events: string; visitors: string; days: string }>(
      warehouse,
      `SELECT count() AS events, uniqExact(anon_id) AS visitors, uniqExact(toDate(ts)) AS days FROM atspark.events WHERE org_id = 'demo'`,
    )
    const logged = JSON.parse(seededLine) as { events: number }
    expect(Number(stats!.events)).toBe(logged.events)
    expect(Number(stats!.visitors)).toBeGreaterThan(1_000)
    // The oldest day may begin just past midnight and today may be young: allow a day either way.
    expect(Number(stats!.days)).toBeGreaterThanOrEqual(29)
    expect(Number(stats!.days)).toBeLessThanOrEqual(31)
  })

  it('enriches through the real path: countries, devices, pseudonymous feature users', async () => {
    const [dims] = await rows<{ countries: string; devices: string; unknown_country: string; features: string; feature_pids: string }>(
      warehouse,
      `SELECT uniqExactIf(country, country != '') AS countries, uniqExact(device_type) AS devices, countIf(country = '') AS unknown_country,
              countIf(type = 'feature') AS features, uniqExactIf(user_pid, type = 'feature' AND user_pid != '') AS feature_pids
       FROM atspark.events WHERE org_id = 'demo'`,
    )
    expect(Number(dims!.countries)).toBeGreaterThanOrEqual(5)
    expect(Number(dims!.devices)).toBeGreaterThanOrEqual(3)
    expect(Number(dims!.unknown_country)).toBe(0)
    expect(Number(dims!.features)).toBeGreaterThan(0)
    expect(Number(dims!.feature_pids)).toBeGreaterThan(10)
    const [withoutPid] = await rows<{ n: string }>(warehouse, `SELECT count() AS n FROM atspark.events WHERE type = 'feature' AND user_pid = ''`)
    expect(Number(withoutPid!.n)).toBe(0)
    // Only pseudonyms: the host app's ids never reach a row.
    const [rawIds] = await rows<{ n: string }>(warehouse, `SELECT count() AS n FROM atspark.events WHERE user_pid LIKE 'demo-user-%'`)
    expect(Number(rawIds!.n)).toBe(0)
  })

  it('fills the per-dimension rollups through their views: each dimension counts every demo event once', async () => {
    const [raw] = await rows<{ n: string }>(warehouse, `SELECT toString(count()) AS n FROM atspark.events WHERE org_id = 'demo'`)
    for (const table of ['rollup_dims_hourly', 'rollup_dims_daily']) {
      const dims = await rows<{ dimension: string; n: string }>(
        warehouse,
        `SELECT toString(dimension) AS dimension, toString(sum(events)) AS n FROM atspark.${table} WHERE org_id = 'demo' GROUP BY dimension ORDER BY dimension`,
      )
      expect(dims.map((d) => d.dimension)).toEqual(['', 'browser', 'country', 'device_type', 'name', 'os', 'referrer_host', 'url_path'])
      for (const d of dims) expect(d.n, `${table} ${d.dimension}`).toBe(raw!.n)
    }
  })

  it('logs consent receipts with grants and refusals', async () => {
    const consent = await rows<{ analytics: boolean; source: string; n: string }>(
      warehouse,
      `SELECT analytics, source, count() AS n FROM atspark.consent_log WHERE org_id = 'demo' GROUP BY analytics, source`,
    )
    expect(consent.some((r) => r.analytics)).toBe(true)
    expect(consent.some((r) => !r.analytics)).toBe(true)
    expect(new Set(consent.map((r) => r.source))).toEqual(new Set(['banner', 'api', 'gpc', 'dnt']))
  })

  it('keeps no raw IP anywhere: network prefixes only', async () => {
    const [ips] = await rows<{ total: string; prefixed: string }>(
      warehouse,
      `SELECT count() AS total, countIf(match(ip_prefix, '^([0-9]+\\\\.){3}0/24$') OR match(ip_prefix, '^[0-9a-f:]+::/48$')) AS prefixed FROM atspark.events WHERE org_id = 'demo'`,
    )
    expect(Number(ips!.prefixed)).toBe(Number(ips!.total))
    // No column of any table holds a full address the generator used.
    const tables = await rows<{ name: string }>(warehouse, `SELECT name FROM system.tables WHERE database = 'atspark' AND engine NOT LIKE '%View%'`)
    for (const { name } of tables) {
      const [hits] = await rows<{ n: string }>(
        warehouse,
        `SELECT count() AS n FROM atspark.\`${name}\` AS t WHERE position(toString(tuple(*)), '85.214.132.117') > 0 OR position(toString(tuple(*)), '2001:4860:4860::8888') > 0`,
      )
      expect(Number(hits!.n), name).toBe(0)
    }
  })

  it('does not seed again when the warehouse already holds demo events', () => {
    expect(secondStart).not.toContain('generating demo traffic')
    expect(secondStart).not.toContain(SEEDED)
  })
})
