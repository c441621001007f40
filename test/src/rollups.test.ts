import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { backfillRollups, createWarehouseClient, MIGRATIONS, migrate, ROLLUP_DIMENSIONS, ROLLUP_TABLES, type RollupTable } from '@atspark/warehouse'
import { EventRow, type EventType, exampleEventRow, toWarehouseTime } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rows } from './support/warehouse.js'

const DAY_MS = 86_400_000
const TODAY = Math.floor(Date.now() / DAY_MS) * DAY_MS
/** Days (UTC, YYYY-MM-DD) the generated events fall on: before any rollup, under migrations 6–7 only, and after migration 8. */
const DAYS = [-14, -13, -12, -10, -9, -7, -6, -5].map((d) => new Date(TODAY + d * DAY_MS).toISOString().slice(0, 10))
const BEFORE_VIEWS = DAYS.slice(0, 3)
const OLD_VIEWS = DAYS.slice(3, 5)
const AFTER_VIEWS = DAYS.slice(5)
const SITES = [
  ['org-a', 'web'],
  ['org-a', 'app'],
  ['org-b', 'web'],
] as const
const PAGES = ['/', '/pricing', '/docs', '/docs/start', '/blog/rollups']
const REFERRERS = ['', 'www.google.com', 'news.ycombinator.com', 'duckduckgo.com']
const COUNTRIES = ['US', 'GB', 'DE', 'FR', '']
const AGENTS = [
  ['Chrome', 'Windows', 'desktop'],
  ['Firefox', 'Linux', 'desktop'],
  ['Safari', 'iOS', 'mobile'],
  ['Chrome', 'Android', 'tablet'],
] as const
const TYPES: EventType[] = ['pageview', 'pageview', 'pageview', 'click', 'query', 'dashboard', 'feature', 'custom']
const NAMES: Record<EventType, string[]> = {
  pageview: [''],
  click: ['signup', 'cta'],
  query: ['run_query'],
  dashboard: ['overview', 'funnels'],
  feature: ['export_csv', 'alerts', 'sso'],
  custom: ['trial_started'],
}
/** The per-dimension rows plus the totals pseudo-dimension '' (each event once). */
const DIMENSIONS = ['', ...ROLLUP_DIMENSIONS] as const
type Dimension = (typeof DIMENSIONS)[number]
const TABLES = Object.keys(ROLLUP_TABLES) as RollupTable[]

/** A small deterministic PRNG (mulberry32): the same rows, hence the same sketches, on every run. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Visitors come back across days (same anon_id), some signed in (user_pid), some bots; a few sessions per visitor per day. */
function generate(days: readonly string[], seed: number): EventRow[] {
  const rnd = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
  const out: EventRow[] = []
  for (const [org, site] of SITES) {
    for (const day of days) {
      const dayStart = Date.parse(`${day}T00:00:00Z`)
      for (let v = 0; v < 40; v++) {
        const visitor = Math.floor(rnd() * 90)
        const anon = `anon-${org}-${site}-${visitor}`
        const account = visitor % 3 === 0 ? `${org}-user-${visitor % 30}`.padEnd(64, '0') : ''
        const [browser, os, device] = AGENTS[visitor % AGENTS.length]!
        const country = COUNTRIES[visitor % COUNTRIES.length]!
        const isBot = visitor % 29 === 0
        const sessions = 1 + Math.floor(rnd() * 2)
        for (let s = 0; s < sessions; s++) {
          const sessionStart = dayStart + Math.floor(rnd() * 23) * 3_600_000 + Math.floor(rnd() * 3_000_000)
          const events = 1 + Math.floor(rnd() * 6)
          for (let e = 0; e < events; e++) {
            const type = pick(TYPES)
            const ts = toWarehouseTime(sessionStart + e * 45_000)
            out.push(
              EventRow.parse(
                exampleEventRow({
                  event_id: crypto.randomUUID(),
                  org_id: org,
                  site_id: site,
                  type,
                  name: pick(NAMES[type]),
                  ts,
                  received_at: ts,
                  anon_id: anon,
                  session_id: `${anon}-${day}-${s}`,
                  user_pid: account,
                  url_path: pick(PAGES),
                  url_host: `${site}.${org}.example`,
                  referrer_host: e === 0 ? pick(REFERRERS) : '',
                  props: type === 'feature' ? { plan: pick(['free', 'pro']) } : {},
                  browser,
                  browser_version: '131',
                  os,
                  device_type: isBot ? 'bot' : device,
                  is_bot: isBot,
                  locale: 'en-GB',
                  country,
                  // No channel, unlike exampleEventRow's 'Direct'.
                  channel: '',
                }),
              ),
            )
          }
        }
      }
    }
  }
  return out
}

const inDays = (expr: string, days: readonly string[]) => `toDate(${expr}) IN (${days.map((d) => `'${d}'`).join(', ')})`

/**
 * Per (org, site, bucket, [is_bot, type,] value): raw counts and exact distincts from events, grouped by the
 * dimension's own column, against the same from that dimension's rollup rows (the totals: every event, value '').
 */
async function compare(client: ClickHouseClient, table: RollupTable, dimension: Dimension, split: boolean, days: readonly string[]) {
  const extra = split ? ['is_bot', 'type'] : []
  const keys = ['org_id', 'site_id', 'bucket', ...extra, 'value'].join(', ')
  const value = dimension === '' ? "''" : `toString(${dimension})`
  const raw = await rows(
    client,
    `SELECT org_id, site_id, toString(${ROLLUP_TABLES[table]}) AS bucket${extra.map((c) => `, ${c}`).join('')}, ${value} AS value,
       toString(count()) AS events_n, toString(countIf(type = 'pageview')) AS pageviews_n,
       toString(uniqExactIf(anon_id, anon_id != '')) AS visitors_n, toString(uniqExactIf(session_id, session_id != '')) AS sessions_n,
       toString(uniqExactIf(user_pid, user_pid != '')) AS accounts_n
     FROM atspark.events WHERE ${inDays('ts', days)} GROUP BY ${keys} ORDER BY ${keys}`,
  )
  const rolled = await rows(
    client,
    `SELECT org_id, site_id, toString(bucket) AS bucket${extra.map((c) => `, ${c}`).join('')}, value,
       toString(sum(events)) AS events_n, toString(sumIf(events, type = 'pageview')) AS pageviews_n,
       toString(uniqMerge(visitors)) AS visitors_n, toString(uniqMerge(sessions)) AS sessions_n, toString(uniqMerge(accounts)) AS accounts_n
     FROM atspark.${table} WHERE dimension = '${dimension}' AND ${inDays('bucket', days)} GROUP BY ${keys} ORDER BY ${keys}`,
  )
  return { raw, rolled }
}

/** Every rollup read every way the stats API will: each dimension and the totals, by type and bot flag and merged over them, and whole sites over the range. */
async function expectRollupsEqualRaw(client: ClickHouseClient, days: readonly string[]) {
  for (const table of TABLES) {
    for (const dimension of DIMENSIONS) {
      for (const split of [true, false]) {
        const { raw, rolled } = await compare(client, table, dimension, split, days)
        expect(raw.length).toBeGreaterThan(0)
        // Distinct counts are exact too: uniq keeps every hash until a state holds 65,536 (docs/warehouse.md#rollups).
        expect(rolled, `${table} by '${dimension}'${split ? ', is_bot, type' : ''}`).toEqual(raw)
      }
    }
  }
  // Merging sketches across buckets counts a returning visitor once, as the raw distinct does; every dimension sums to the same events.
  const siteRaw = await rows(
    client,
    `SELECT org_id, site_id, toString(count()) AS e, toString(uniqExact(anon_id)) AS v, toString(uniqExact(session_id)) AS s, toString(uniqExactIf(user_pid, user_pid != '')) AS a
     FROM atspark.events WHERE ${inDays('ts', days)} GROUP BY org_id, site_id ORDER BY org_id, site_id`,
  )
  for (const table of TABLES) {
    for (const dimension of DIMENSIONS) {
      const siteRolled = await rows(
        client,
        `SELECT org_id, site_id, toString(sum(events)) AS e, toString(uniqMerge(visitors)) AS v, toString(uniqMerge(sessions)) AS s, toString(uniqMerge(accounts)) AS a
         FROM atspark.${table} WHERE dimension = '${dimension}' AND ${inDays('bucket', days)} GROUP BY org_id, site_id ORDER BY org_id, site_id`,
      )
      expect(siteRolled, `${table} '${dimension}'`).toEqual(siteRaw)
    }
  }
}

async function snapshot(client: ClickHouseClient): Promise<unknown[]> {
  const out: unknown[] = []
  for (const table of TABLES) {
    out.push(
      await rows(
        client,
        `SELECT org_id, site_id, toString(bucket) AS b, dimension, is_bot, type, value, toString(sum(events)) AS e,
           toString(uniqMerge(visitors)) AS v, toString(uniqMerge(sessions)) AS s, toString(uniqMerge(accounts)) AS a
         FROM atspark.${table} GROUP BY ALL ORDER BY ALL`,
      ),
    )
  }
  return out
}

const rollupObjects = (client: ClickHouseClient) =>
  rows<{ name: string }>(client, "SELECT name FROM system.tables WHERE database = 'atspark' AND name LIKE 'rollup%' ORDER BY name").then((r) => r.map((x) => x.name))

let dir: string
let client: ClickHouseClient
const before = generate(BEFORE_VIEWS, 1)
const old = generate(OLD_VIEWS, 4)
const after = generate(AFTER_VIEWS, 2)
/** What the rollups of migrations 6–7 held when migration 8 replaced them. */
let oldRollupEvents = 0
let migrated: number[] = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'atspark-rollups-'))
  client = createWarehouseClient({ dataDir: dir })
  // A warehouse as it was before the rollups: events only, already holding data.
  await migrate(
    client,
    MIGRATIONS.filter((m) => m.version <= 5),
  )
  await client.insert({ table: 'atspark.events', values: before, format: 'JSONEachRow' })
  // Then as it was with the rollups of migrations 6 and 7, their views filling them.
  expect(
    (
      await migrate(
        client,
        MIGRATIONS.filter((m) => m.version <= 7),
      )
    ).applied,
  ).toEqual([6, 7])
  await client.insert({ table: 'atspark.events', values: old, format: 'JSONEachRow' })
  const [held] = await rows<{ n: string }>(client, 'SELECT toString(sum(events)) AS n FROM atspark.rollup_daily')
  oldRollupEvents = Number(held?.n)
  migrated = (await migrate(client)).applied
  await client.insert({ table: 'atspark.events', values: after, format: 'JSONEachRow' })
})

afterAll(async () => {
  await client?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('per-dimension rollups (migration 8) over chDB', () => {
  it('generated a realistic spread: several orgs, sites, pages and countries, visitors returning across days', async () => {
    const [spread] = await rows<Record<string, string>>(
      client,
      `SELECT toString(count()) AS n, toString(uniqExact(org_id, site_id)) AS sites, toString(uniqExact(url_path)) AS pages,
         toString(uniqExact(country)) AS countries, toString(uniqExact(toDate(ts))) AS days, toString(uniqExact(anon_id)) AS visitors,
         toString(uniqExact(anon_id, toDate(ts))) AS visitor_days FROM atspark.events`,
    )
    expect(Number(spread?.n)).toBe(before.length + old.length + after.length)
    expect(spread).toMatchObject({ sites: '3', pages: '5', countries: '5', days: '8' })
    expect(Number(spread?.visitor_days)).toBeGreaterThan(Number(spread?.visitors))
  })

  it('migration 8 on a warehouse with the old rollups: creates the new ones, drops the old tables and views', async () => {
    // 8 and every migration after it (9 coarsens consent receipts, which this suite does not look at).
    const latest = Math.max(...MIGRATIONS.map((m) => m.version))
    expect(migrated).toEqual(MIGRATIONS.map((m) => m.version).filter((v) => v >= 8))
    expect(latest).toBeGreaterThanOrEqual(9)
    expect(oldRollupEvents).toBe(old.length)
    expect(await rollupObjects(client)).toEqual(['rollup_dims_daily', 'rollup_dims_daily_mv', 'rollup_dims_hourly', 'rollup_dims_hourly_mv'])
    // Applied once: a restart applies nothing.
    expect(await migrate(client)).toEqual({ applied: [], current: latest })
  })

  it('the views fill both rollups from inserts after they exist, equal to the raw aggregates per dimension', async () => {
    await expectRollupsEqualRaw(client, AFTER_VIEWS)
    const [missing] = await rows<{ n: string }>(client, `SELECT toString(count()) AS n FROM atspark.rollup_dims_daily WHERE ${inDays('bucket', [...BEFORE_VIEWS, ...OLD_VIEWS])}`)
    expect(missing?.n).toBe('0')
  })

  it('a row is one dimension value, never a combination: a handful of totals rows per bucket', async () => {
    const [r] = await rows<Record<string, string>>(
      client,
      `SELECT toString(max(n)) AS most, toString(uniqExact(dimension)) AS dims FROM (
         SELECT org_id, site_id, bucket, dimension, count() AS n FROM atspark.rollup_dims_hourly FINAL WHERE dimension = '' GROUP BY ALL)`,
    )
    // At most one row per (is_bot, type): 2 × 6.
    expect(Number(r?.most)).toBeLessThanOrEqual(12)
    const [dims] = await rows<{ d: string[] }>(client, 'SELECT arraySort(groupUniqArray(toString(dimension))) AS d FROM atspark.rollup_dims_daily')
    expect(dims?.d).toEqual(['', ...ROLLUP_DIMENSIONS].sort())
  })

  it('a repeated insert deduplicated by events is not counted again in the rollups', async () => {
    const extra = generate([AFTER_VIEWS[0]!], 3).slice(0, 50)
    const settings = { insert_deduplication_token: 'rollups-test:0-50:events' }
    await client.insert({ table: 'atspark.events', values: extra, format: 'JSONEachRow', clickhouse_settings: settings })
    await client.insert({ table: 'atspark.events', values: extra, format: 'JSONEachRow', clickhouse_settings: settings })
    // chDB keeps a query's settings in its session; the next insert must not carry this token.
    await client.command({ query: 'SELECT 1', clickhouse_settings: { insert_deduplication_token: '' } })
    const [n] = await rows<{ n: string }>(client, `SELECT toString(count()) AS n FROM atspark.events WHERE event_id IN (${extra.map((e) => `'${e.event_id}'`).join(',')})`)
    expect(n?.n).toBe('50')
    await expectRollupsEqualRaw(client, AFTER_VIEWS)
  })

  it('backfill covers rows inserted before the views existed, and equals the raw aggregates everywhere', async () => {
    const result = await backfillRollups(client)
    expect(result).toMatchObject({ from: DAYS[0], to: DAYS.at(-1) })
    expect(result.sites).toHaveLength(3)
    expect(result.written.rollup_dims_daily).toBeGreaterThan(0)
    expect(result.written.rollup_dims_hourly).toBeGreaterThanOrEqual(result.written.rollup_dims_daily)
    await expectRollupsEqualRaw(client, DAYS)
  })

  it('backfill is idempotent: again over everything, and over a sub-range, the rollups do not change', async () => {
    const first = await snapshot(client)
    await backfillRollups(client)
    expect(await snapshot(client)).toEqual(first)
    await backfillRollups(client, { from: DAYS[1], to: DAYS[5] })
    expect(await snapshot(client)).toEqual(first)
    await client.command({ query: 'OPTIMIZE TABLE atspark.rollup_dims_hourly FINAL' })
    await client.command({ query: 'OPTIMIZE TABLE atspark.rollup_dims_daily FINAL' })
    expect(await snapshot(client)).toEqual(first)
    await expectRollupsEqualRaw(client, DAYS)
  })

  it('migration 8 run again (cut short, or by a second process) changes nothing', async () => {
    const first = await snapshot(client)
    for (const statement of MIGRATIONS.find((m) => m.version === 8)!.statements) await client.command({ query: statement })
    expect(await rollupObjects(client)).toEqual(['rollup_dims_daily', 'rollup_dims_daily_mv', 'rollup_dims_hourly', 'rollup_dims_hourly_mv'])
    expect(await snapshot(client)).toEqual(first)
  })

  it('backfill leaves alone rollup days whose raw events are gone (the aggregates outlive them)', async () => {
    const day = DAYS[0]!
    const q = `SELECT dimension, toString(sum(events)) AS e, toString(uniqMerge(visitors)) AS v FROM atspark.rollup_dims_daily WHERE bucket = '${day}' AND org_id = 'org-b' GROUP BY dimension ORDER BY dimension`
    const kept = await rows<{ e: string }>(client, q)
    await client.command({ query: `DELETE FROM atspark.events WHERE toDate(ts) = '${day}' AND org_id = 'org-b'`, clickhouse_settings: { mutations_sync: '2' } })
    const result = await backfillRollups(client, { from: day, to: DAYS[1] })
    expect(result.sites.find((s) => s.org_id === 'org-b')?.from).toBe(DAYS[1])
    const now = await rows<{ e: string }>(client, q)
    expect(now).toHaveLength(DIMENSIONS.length)
    expect(Number(now[0]?.e)).toBeGreaterThan(0)
    expect(now).toEqual(kept)
  })

  it('beyond 65,536 distinct visitors a bucket is a sample: within the documented 2% of the exact count, per dimension too', async () => {
    const ts = `${DAYS.at(-1)} 12:30:00.000`
    await client.command({
      query: `INSERT INTO atspark.events (event_id, org_id, site_id, type, name, ts, received_at, anon_id, session_id, url_path, country, browser, os, device_type)
        SELECT generateUUIDv4(), 'org-big', 'web', 'pageview', '', '${ts}', '${ts}', concat('big-', toString(number)), concat('big-s-', toString(number)),
          if(number % 2 = 0, '/', '/pricing'), 'US', 'Chrome', 'Windows', 'desktop'
        FROM numbers(150000)`,
    })
    for (const table of TABLES) {
      const big = await rows<{ dimension: string; value: string; v: string; e: string }>(
        client,
        `SELECT dimension, value, toString(uniqMerge(visitors)) AS v, toString(sum(events)) AS e FROM atspark.${table}
         WHERE org_id = 'org-big' AND dimension IN ('', 'url_path', 'country') GROUP BY dimension, value ORDER BY dimension, value`,
      )
      const expected = { '': 150_000, 'url_path /': 75_000, 'url_path /pricing': 75_000, 'country US': 150_000 } as Record<string, number>
      expect(big.map((r) => (r.dimension ? `${r.dimension} ${r.value}` : '')).sort()).toEqual(Object.keys(expected).sort())
      for (const r of big) {
        const exact = expected[r.dimension ? `${r.dimension} ${r.value}` : '']!
        expect(r.e).toBe(String(exact))
        expect(Math.abs(Number(r.v) - exact) / exact, `${table} ${r.dimension} ${r.value}: ${r.v}`).toBeLessThanOrEqual(0.02)
      }
    }
  })

  it('hold no identifier column', async () => {
    const columns = await rows<{ table: string; name: string; type: string }>(
      client,
      `SELECT table, name, type FROM system.columns WHERE database = 'atspark' AND table IN ('rollup_dims_hourly', 'rollup_dims_daily') ORDER BY table, position`,
    )
    const names = [...new Set(columns.map((c) => c.name))]
    expect(names).toEqual(['org_id', 'site_id', 'dimension', 'is_bot', 'type', 'bucket', 'value', 'events', 'visitors', 'sessions', 'accounts'])
    for (const id of ['anon_id', 'session_id', 'user_pid', 'event_id', 'ip_prefix', 'user_id', 'ip']) expect(names).not.toContain(id)
    expect(columns.filter((c) => ['visitors', 'sessions', 'accounts'].includes(c.name)).map((c) => c.type)).toEqual(
      Array(6).fill('AggregateFunction(uniq, String)'),
    )
  })

  it('are AggregatingMergeTree with monthly partitions and a 25-month TTL dropping whole parts', async () => {
    for (const table of TABLES) {
      const [create] = await rows<{ statement: string }>(client, `SHOW CREATE TABLE atspark.${table}`)
      expect(create?.statement).toContain('ENGINE = AggregatingMergeTree')
      expect(create?.statement).toContain('PARTITION BY toYYYYMM(bucket)')
      expect(create?.statement).toContain('ORDER BY (org_id, site_id, dimension, is_bot, type, bucket, value)')
      expect(create?.statement).toContain('TTL toDateTime(bucket) + toIntervalMonth(25)')
      expect(create?.statement).toContain('ttl_only_drop_parts = 1')
    }
  })
})
