import { EVENTS_TTL_MONTHS, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

export interface TableRetention {
  table: string
  /** The table's TTL clause as the engine reports it, e.g. `toDateTime(ts) + toIntervalMonth(13)`; '' for none. */
  ttl: string
  /** Column the oldest-row figure is taken from. */
  time_column: string
  oldest: string | null
  rows: number
}

/** The TTL clause of a `system.tables.engine_full` string, without the `TTL` keyword; '' when there is none. */
export function ttlClause(engineFull: string): string {
  const m = engineFull.match(/\bTTL\s+(.+?)(?:\s+SETTINGS\s|$)/)
  return m?.[1]?.trim() ?? ''
}

/** Months of a `… + toIntervalMonth(N)` TTL, if that is its shape. */
export function ttlMonths(engineFull: string): number | undefined {
  const m = ttlClause(engineFull).match(/toIntervalMonth\((\d+)\)/)
  return m ? Number(m[1]) : undefined
}

/** The column a `toDateTime(col) + …` TTL counts from. */
export function ttlColumn(engineFull: string): string | undefined {
  return ttlClause(engineFull).match(/toDateTime\((\w+)\)/)?.[1]
}

/** Every table of the warehouse database with its TTL, row count and oldest row. */
export async function retentionReport(client: ClickHouseClient): Promise<TableRetention[]> {
  const tables = await (
    await client.query({
      // Views hold no rows of their own: a materialized view's rows are its target table's, listed under that name.
      query: `SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND NOT is_temporary AND engine NOT IN ('MaterializedView', 'View') ORDER BY name`,
      query_params: { db: DB },
      format: 'JSONEachRow',
    })
  ).json<{ name: string; engine_full: string }>()
  const columns = await (
    await client.query({
      query: `SELECT table, name FROM system.columns WHERE database = {db:String} AND type LIKE '%DateTime%' ORDER BY table, position`,
      query_params: { db: DB },
      format: 'JSONEachRow',
    })
  ).json<{ table: string; name: string }>()
  const report: TableRetention[] = []
  for (const t of tables) {
    const timeColumn = ttlColumn(t.engine_full) ?? columns.find((c) => c.table === t.name)?.name ?? ''
    let oldest: string | null = null
    let rows = 0
    // Identifiers come from system tables, not from a user; backquoted all the same.
    const rs = await client.query({
      query: `SELECT count() AS n${timeColumn ? `, if(n = 0, NULL, toString(min(\`${timeColumn}\`))) AS oldest` : ''} FROM ${DB}.\`${t.name}\``,
      format: 'JSONEachRow',
    })
    const [stats] = await rs.json<{ n: string | number; oldest?: string | null }>()
    rows = Number(stats?.n ?? 0)
    oldest = stats?.oldest ?? null
    report.push({ table: t.name, ttl: ttlClause(t.engine_full), time_column: timeColumn, oldest, rows })
  }
  return report
}

export interface TtlChange {
  table: string
  from: number | undefined
  to: number
}

/**
 * Makes the tables whose TTL is configurable (audit_log, privacy_requests, the rollups) carry the configured
 * months; a no-op when they already do. Returns what changed, for the audit log.
 */
export async function applyConfiguredTtls(client: ClickHouseClient, months: Record<string, number>): Promise<TtlChange[]> {
  const tables = await (
    await client.query({
      query: `SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}`,
      query_params: { db: DB, names: Object.keys(months) },
      format: 'JSONEachRow',
    })
  ).json<{ name: string; engine_full: string }>()
  const changes: TtlChange[] = []
  for (const t of tables) {
    const want = months[t.name]
    const column = ttlColumn(t.engine_full)
    const have = ttlMonths(t.engine_full)
    if (want === undefined || !column || have === want) continue
    if (!Number.isInteger(want) || want < 1) throw new Error(`TTL of ${t.name} must be a positive whole number of months`)
    await client.command({ query: `ALTER TABLE ${DB}.\`${t.name}\` MODIFY TTL toDateTime(\`${column}\`) + INTERVAL ${want} MONTH` })
    changes.push({ table: t.name, from: have, to: want })
  }
  return changes
}

export interface SiteRetention {
  org_id: string
  site_id: string
  retention_months: number
}

export interface SiteRetentionResult extends SiteRetention {
  deleted: number
}

/**
 * Sites that keep raw events for less than the table's 13 months: their older events are removed
 * with a lightweight DELETE (the table TTL covers everything else). Only sites with rows to
 * delete get a mutation.
 */
export async function enforceSiteRetention(client: ClickHouseClient, sites: readonly SiteRetention[]): Promise<SiteRetentionResult[]> {
  const results: SiteRetentionResult[] = []
  for (const site of sites) {
    if (site.retention_months >= EVENTS_TTL_MONTHS) continue
    const where = `org_id = {org:String} AND site_id = {site:String} AND ts < now64(3) - toIntervalMonth({months:UInt8})`
    const query_params = { org: site.org_id, site: site.site_id, months: site.retention_months }
    const [count] = await (await client.query({ query: `SELECT count() AS n FROM ${DB}.events WHERE ${where}`, query_params, format: 'JSONEachRow' })).json<{
      n: string | number
    }>()
    const n = Number(count?.n ?? 0)
    if (n === 0) continue
    await client.command({ query: `DELETE FROM ${DB}.events WHERE ${where}`, query_params, clickhouse_settings: { mutations_sync: '2' } })
    results.push({ ...site, deleted: n })
  }
  return results
}
