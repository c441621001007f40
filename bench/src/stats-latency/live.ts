import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { Warehouse } from './warehouse.js'

const DAY_MS = 86_400_000
const WINDOW_MS = 30 * 60_000
/** The copies' ip_prefix (a real one is a /24 or /48 network). */
const LIVE_MARK = 'bench-live-copy'

/**
 * Gives /realtime and /realtime/integration something to count: the site's events of the same half hour on the
 * last generated days, copied (new ids) into the 30 minutes before now, bots included. The previous run's copies are
 * deleted first, so a kept warehouse does not grow; the rollups keep their rows for today, which no timed range reads.
 */
export async function insertLiveEvents(client: Warehouse, o: { org: string; site: string; endDayMs: number }): Promise<number> {
  const now = Date.now()
  const shiftDays = Math.ceil((now - o.endDayMs) / DAY_MS) + 1
  const shift = shiftDays * DAY_MS
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
  const params = { org: o.org, site: o.site, from: iso(now - WINDOW_MS - shift), to: iso(now - shift), shift }
  await removeLiveEvents(client, o)
  await client.command({
    query: `INSERT INTO ${DB}.events SELECT * REPLACE (
        generateUUIDv4(cityHash64(event_id, {shift:Int64})) AS event_id,
        addMilliseconds(ts, {shift:Int64}) AS ts,
        addMilliseconds(received_at, {shift:Int64}) AS received_at,
        '${LIVE_MARK}' AS ip_prefix)
      -- A subquery: in ClickHouse a WHERE beside REPLACE would see the shifted ts.
      FROM (SELECT * FROM ${DB}.events
            WHERE org_id = {org:String} AND site_id = {site:String} AND ts >= {from:DateTime64(3)} AND ts < {to:DateTime64(3)})`,
    query_params: params,
  })
  const rs = await client.query({
    query: `SELECT count() AS n FROM ${DB}.events WHERE org_id = {org:String} AND ip_prefix = '${LIVE_MARK}'`,
    query_params: params,
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ n: string }>()
  return Number(row?.n ?? 0)
}

/** Deletes the copies a run made (marked in ip_prefix, which no stats answer reads), so the kept data is what was generated. */
export async function removeLiveEvents(client: Warehouse, o: { org: string }): Promise<void> {
  await client.command({
    query: `ALTER TABLE ${DB}.events DELETE WHERE org_id = {org:String} AND ip_prefix = '${LIVE_MARK}'`,
    query_params: { org: o.org },
    clickhouse_settings: { mutations_sync: '2' },
  })
}
