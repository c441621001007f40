import { randomUUID } from 'node:crypto'
import { WAREHOUSE_DATABASE as DB, StatsDimension } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { z } from 'zod'

/**
 * The dimensions the rollups of migration 8 keep one row per value of: exactly what a breakdown may
 * group by. Each event also counts once under the totals pseudo-dimension (`dimension = ''`, `value = ''`).
 */
export const ROLLUP_DIMENSIONS = StatsDimension.options
/** The pseudo-dimension every event is counted under once: what a timeseries reads. */
export const ROLLUP_TOTALS = ''

/** Each rollup table with the expression that turns `events.ts` into its bucket (UTC). */
export const ROLLUP_TABLES = {
  rollup_dims_hourly: 'toStartOfHour(toDateTime(ts))',
  rollup_dims_daily: 'toDate(ts)',
} as const
export type RollupTable = keyof typeof ROLLUP_TABLES

/** The views' WHERE-less SELECT: one input row per (event, dimension) by ARRAY JOIN, then one state per key. */
export function rollupViewSelect(table: RollupTable): string {
  return rollupSelectWith(table, '')
}

/**
 * The SELECT the materialized views run, with a `ts` range: a backfill must build exactly the
 * states the views would have written, so the measures are the views' own -State functions.
 */
export function rollupSelect(table: RollupTable): string {
  return rollupSelectWith(table, "WHERE ts >= toDateTime64({from:Date}, 3, 'UTC') AND ts < toDateTime64({to:Date}, 3, 'UTC')\n")
}

function rollupSelectWith(table: RollupTable, where: string): string {
  // Mixed String and LowCardinality(String) elements make an Array(String): no casts needed.
  const names = [ROLLUP_TOTALS, ...ROLLUP_DIMENSIONS].map((d) => `'${d}'`).join(', ')
  return `SELECT
    org_id, site_id, dimension, is_bot, type, ${ROLLUP_TABLES[table]} AS bucket, value,
    toUInt64(count()) AS events,
    uniqStateIf(anon_id, anon_id != '') AS visitors,
    uniqStateIf(session_id, session_id != '') AS sessions,
    uniqStateIf(user_pid, user_pid != '') AS accounts
FROM ${DB}.events
ARRAY JOIN [${names}] AS dimension, ['', ${ROLLUP_DIMENSIONS.join(', ')}] AS value
${where}GROUP BY org_id, site_id, dimension, is_bot, type, bucket, value`
}

const Day = z.iso.date()

export const BackfillArgs = z.strictObject({ from: Day.optional(), to: Day.optional() }).refine((a) => !a.from || !a.to || a.from <= a.to, {
  message: '--from must not be after --to',
})
export type BackfillArgs = z.infer<typeof BackfillArgs>

/** `--from YYYY-MM-DD --to YYYY-MM-DD` (both optional, both inclusive UTC days; `--from=…` works too). */
export function parseBackfillArgs(argv: readonly string[]): BackfillArgs {
  const out: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const m = arg.match(/^--(from|to)(?:=(.*))?$/)
    if (!m) throw new Error(`unknown argument ${arg}: usage: backfill-rollups [--from YYYY-MM-DD] [--to YYYY-MM-DD]`)
    const value = m[2] ?? argv[++i]
    if (value === undefined) throw new Error(`--${m[1]} needs a date (YYYY-MM-DD)`)
    out[m[1]!] = value
  }
  const parsed = BackfillArgs.safeParse(out)
  if (!parsed.success) throw new Error(`invalid arguments: ${z.prettifyError(parsed.error)}`)
  return parsed.data
}

/** The UTC day after `day` (YYYY-MM-DD). */
export function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
}

export interface SiteRebuild {
  org_id: string
  site_id: string
  /** First day rebuilt: the later of the range's start and the site's oldest raw event. */
  from: string
}

export interface BackfillResult {
  /** Inclusive UTC days; null when `events` holds nothing in the range. */
  from: string | null
  to: string | null
  sites: SiteRebuild[]
  /** Rollup rows written per table (before merges). */
  written: Record<RollupTable, number>
}

/**
 * Rebuilds both rollups (migration 8) for the days [from, to] from `events`: per site, deletes the rollup rows
 * of those days (a synchronous mutation) and inserts the views' SELECT over the same days, so
 * running it twice gives the same rollups. Days before a site's oldest raw event are left alone:
 * once raw events have expired, the rollups are all that is left. Run it when nothing writes
 * events for those days (on chDB the pipeline is stopped anyway); a concurrent write could be
 * counted twice, by the view and by the backfill.
 */
export async function backfillRollups(client: ClickHouseClient, args: BackfillArgs = {}): Promise<BackfillResult> {
  const written: Record<RollupTable, number> = { rollup_dims_hourly: 0, rollup_dims_daily: 0 }
  const bounds = await (
    await client.query({
      query: `SELECT org_id, site_id, toString(toDate(min(ts))) AS first, toString(toDate(max(ts))) AS last
FROM ${DB}.events
WHERE ts >= toDateTime64({from:Date}, 3, 'UTC') AND ts < toDateTime64({to:Date}, 3, 'UTC')
GROUP BY org_id, site_id ORDER BY org_id, site_id`,
      query_params: { from: args.from ?? '1970-01-01', to: args.to ? nextDay(args.to) : '2149-06-06' },
      format: 'JSONEachRow',
    })
  ).json<{ org_id: string; site_id: string; first: string; last: string }>()
  if (bounds.length === 0) return { from: args.from ?? null, to: args.to ?? null, sites: [], written }
  const from = args.from ?? bounds.map((b) => b.first).sort()[0]!
  const to = args.to ?? bounds.map((b) => b.last).sort().at(-1)!
  // `first` is already within the range: the bounds were read from it.
  const sites = bounds.map((b) => ({ org_id: b.org_id, site_id: b.site_id, from: b.first }))
  const end = nextDay(to)

  const query_params: Record<string, string> = { from, to: end }
  const perSite = sites.map((s, i) => {
    query_params[`o${i}`] = s.org_id
    query_params[`s${i}`] = s.site_id
    query_params[`f${i}`] = s.from
    return `(org_id = {o${i}:String} AND site_id = {s${i}:String} AND toDate(bucket) >= {f${i}:Date})`
  })
  for (const table of Object.keys(ROLLUP_TABLES) as RollupTable[]) {
    // A mutation rather than a partition swap: ranges need not be whole months, and it is synchronous on chDB and a server alike.
    await client.command({
      query: `ALTER TABLE ${DB}.${table} DELETE WHERE toDate(bucket) < {to:Date} AND (${perSite.join(' OR ')})`,
      query_params,
      clickhouse_settings: { mutations_sync: '2' },
    })
    const [count] = await (
      await client.query({ query: `SELECT count() AS n FROM (${rollupSelect(table)})`, query_params: { from, to: end }, format: 'JSONEachRow' })
    ).json<{ n: string | number }>()
    // A fresh token: after the delete, a block equal to one an earlier run inserted is new data, not a retry to drop.
    await client.command({
      query: `INSERT INTO ${DB}.${table} ${rollupSelect(table)}`,
      query_params: { from, to: end },
      clickhouse_settings: { insert_deduplication_token: `rollup-backfill:${table}:${randomUUID()}` },
    })
    // chDB keeps a query's settings in its session: clear the token so later inserts are not taken for this one.
    await client.command({ query: 'SELECT 1', clickhouse_settings: { insert_deduplication_token: '' } })
    written[table] = Number(count?.n ?? 0)
  }
  return { from, to, sites, written }
}
