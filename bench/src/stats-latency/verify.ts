import { ROLLUP_TABLES } from '@atspark/warehouse'
import { WAREHOUSE_DATABASE as DB, VISIT_COLUMNS } from '@atspark/schemas'
import type { Warehouse } from './warehouse.js'

export interface DataProfile {
  events: number
  visitors: number
  sessions: number
  accounts: number
  pages: number
  referrers: number
  countries: number
  browsers: number
  bot_share: number
  days: number
  receipts: number
}

async function rows<T>(client: Warehouse, query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
  return (await client.query({ query, query_params, format: 'JSONEachRow' })).json<T>()
}

interface RollupShape {
  table: string
  /** Per-dimension rollups count every event once per dimension and once under the totals (dimension ''). */
  perDimension: boolean
}

/** The processor's rollup tables as this warehouse has them: the check follows the schema instead of assuming one. */
export async function rollupShapes(client: Warehouse): Promise<RollupShape[]> {
  const columns = await rows<{ table: string }>(client, `SELECT table FROM system.columns WHERE database = {db:String} AND name = 'dimension'`, { db: DB })
  const withDimension = new Set(columns.map((c) => c.table))
  return Object.keys(ROLLUP_TABLES).map((table) => ({ table, perDimension: withDimension.has(table) }))
}

/** Rows that count each event once: the totals of a per-dimension rollup, every row of a wide one. */
const totals = (r: RollupShape) => (r.perDimension ? "dimension = ''" : '1')

/** What the views wrote must be what the raw table holds: every (site, UTC day), bots excluded as the stats API does. */
function perDayQuery(rollups: readonly RollupShape[]): string {
  const joins = rollups
    .map(
      (r, i) => `FULL JOIN (
    SELECT site_id, toDate(bucket) AS day, sum(events) AS events_${i}, sumIf(events, type = 'pageview') AS pageviews_${i}, uniqMerge(visitors) AS visitors_${i}
    FROM ${DB}.${r.table} WHERE org_id = {org:String} AND NOT is_bot AND ${totals(r)} GROUP BY site_id, day
) AS r${i} USING (site_id, day)`,
    )
    .join('\n')
  return `SELECT *
FROM (
    SELECT site_id, toDate(ts) AS day, count() AS raw_events, countIf(type = 'pageview') AS raw_pageviews, uniqIf(anon_id, anon_id != '') AS raw_visitors
    FROM ${DB}.events WHERE org_id = {org:String} AND NOT is_bot GROUP BY site_id, day
) AS raw
${joins}
ORDER BY site_id, day`
}

/** Throws, naming the first differences, unless every rollup agrees with the raw events in total, per dimension, and on every site and day. */
export async function verifyRollups(client: Warehouse, org: string, expectedEvents: number): Promise<{ days: number; rollups: string[] }> {
  const rollups = await rollupShapes(client)
  const [raw] = await rows<{ n: string }>(client, `SELECT count() AS n FROM ${DB}.events`)
  if (Number(raw?.n) !== expectedEvents) throw new Error(`events holds ${raw?.n} rows, expected ${expectedEvents}`)
  for (const r of rollups) {
    const sums = await rows<{ dimension: string; n: string }>(
      client,
      r.perDimension ? `SELECT dimension, sum(events) AS n FROM ${DB}.${r.table} GROUP BY dimension` : `SELECT '' AS dimension, sum(events) AS n FROM ${DB}.${r.table}`,
    )
    const wrong = sums.filter((x) => Number(x.n) !== expectedEvents)
    if (sums.length === 0 || wrong.length > 0) throw new Error(`${r.table}: event totals ${JSON.stringify(sums)} ≠ ${expectedEvents}`)
  }
  const days = await rows<Record<string, string | number>>(client, perDayQuery(rollups), { org })
  const bad = days.filter((d) =>
    rollups.some(
      (_, i) =>
        Number(d.raw_events) !== Number(d[`events_${i}`]) ||
        Number(d.raw_pageviews) !== Number(d[`pageviews_${i}`]) ||
        // uniq's sketch merges exactly: a day merged from its hours' or values' states counts the same visitors.
        Number(d.raw_visitors) !== Number(d[`visitors_${i}`]),
    ),
  )
  if (bad.length > 0) throw new Error(`rollups disagree with raw events on ${bad.length} of ${days.length} site-days, e.g. ${JSON.stringify(bad.slice(0, 3))}`)
  return { days: new Set(days.map((d) => d.day)).size, rollups: rollups.map((r) => r.table) }
}

/** The generated data's shape; throws when it is not the realistic mix the benchmark promises. */
export async function profileData(client: Warehouse, org: string, expected: { events: number; receipts: number; days: number }): Promise<DataProfile> {
  const [p] = await rows<Record<string, string | number>>(
    client,
    `SELECT count() AS events, uniqExact(anon_id) AS visitors, uniqExact(session_id) AS sessions, uniqExactIf(user_pid, user_pid != '') AS accounts,
        uniqExact(url_path) AS pages, uniqExactIf(referrer_host, referrer_host != '') AS referrers, uniqExact(country) AS countries,
        uniqExact(browser) AS browsers, countIf(is_bot) / count() AS bot_share, uniqExact(toDate(ts)) AS days,
        uniqExact(type) AS types, uniqExact(site_id) AS sites,
        (SELECT count() FROM ${DB}.consent_log WHERE org_id = {org:String}) AS receipts
     FROM ${DB}.events WHERE org_id = {org:String}`,
    { org },
  )
  if (!p) throw new Error('no events')
  const n = (k: string) => Number(p[k])
  const problems = [
    n('events') !== expected.events && `events ${n('events')} ≠ ${expected.events}`,
    n('receipts') !== expected.receipts && `consent receipts ${n('receipts')} ≠ ${expected.receipts}`,
    n('sites') !== 2 && `sites ${n('sites')} ≠ 2`,
    n('types') !== 6 && `event types ${n('types')} ≠ 6`,
    // A session may run past midnight at the end of the range, so one more day can hold a few events.
    (n('days') < expected.days || n('days') > expected.days + 1) && `days ${n('days')} outside ${expected.days}…${expected.days + 1}`,
    (n('bot_share') < 0.005 || n('bot_share') > 0.1) && `bot share ${n('bot_share')}`,
    n('visitors') < Math.min(1_000, expected.events / 50) && `only ${n('visitors')} visitors`,
    n('accounts') < Math.min(100, expected.events / 1_000) && `only ${n('accounts')} accounts`,
    n('pages') < Math.min(100, expected.events / 1_000) && `only ${n('pages')} pages`,
  ].filter((x): x is string => typeof x === 'string')
  if (problems.length > 0) throw new Error(`generated data is not what was asked for: ${problems.join('; ')}`)
  return {
    events: n('events'),
    visitors: n('visitors'),
    sessions: n('sessions'),
    accounts: n('accounts'),
    pages: n('pages'),
    referrers: n('referrers'),
    countries: n('countries'),
    browsers: n('browsers'),
    bot_share: n('bot_share'),
    days: n('days'),
    receipts: n('receipts'),
  }
}

/**
 * One pass over the visits: every event of a visit carries the same channel, utm_* and entry_page (so its first event's),
 * and entry_page is the path of its first pageview ('' when it has none). Throws, naming a few wrong visits; returns the visit count.
 */
export async function verifyVisitColumns(client: Warehouse, org: string): Promise<number> {
  const values = `tuple(${VISIT_COLUMNS.join(', ')})`
  const [r] = await rows<{ visits: string; mixed: string; wrong_entry: string; examples: unknown[] }>(
    client,
    `SELECT count() AS visits, countIf(variants > 1) AS mixed, countIf(entry != first_page) AS wrong_entry,
        groupArrayIf(5)(tuple(session_id, variants, visit_values, first_page), variants > 1 OR entry != first_page) AS examples
     FROM (
        SELECT session_id, uniqExact(${values}) AS variants, any(${values}) AS visit_values,
            any(entry_page) AS entry, if(countIf(type = 'pageview') = 0, '', argMinIf(url_path, (ts, event_id), type = 'pageview')) AS first_page
        FROM ${DB}.events WHERE org_id = {org:String} AND session_id != '' GROUP BY org_id, site_id, session_id
     )`,
    { org },
  )
  const n = (v: string | undefined) => Number(v ?? 0)
  if (!r || n(r.visits) === 0) throw new Error('no visits to check: the generated events carry no session_id')
  if (n(r.mixed) + n(r.wrong_entry) > 0) {
    throw new Error(
      `visit columns are not stamped as the processor stamps them: ${r.mixed} of ${r.visits} visits mix values, ${r.wrong_entry} have an entry_page other than their first pageview's path; e.g. ${JSON.stringify(r.examples)}`,
    )
  }
  return n(r.visits)
}
