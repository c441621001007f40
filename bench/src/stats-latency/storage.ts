/**
 * Storage candidates for filtered stats, measured as SQL straight on the generated warehouse (same engine, no HTTP):
 * raw events read per visit, a sessions table a materialized view would fill, skip indexes on the filtered columns, and
 * visit values stamped on every event by the processor (the visit-level clause becomes a column predicate).
 */
import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { percentile } from './timing.js'
import type { Warehouse } from './warehouse.js'

const DAY_MS = 86_400_000

/** One event-level and one visit-level clause, as the API's filter compiler would place them. */
export interface FilterPair {
  label: string
  /** SQL over one event (the row kept or not). */
  event: string
  /** Visit-level dimension and value: a visit keeps its events when its first event's value matches. */
  visit: { dimension: 'channel' | 'utm_campaign' | 'utm_source' | 'entry_page'; value: string }
}

export const FILTER_PAIRS: readonly FilterPair[] = [
  { label: 'country==DE;channel==Organic Search', event: `country = 'DE'`, visit: { dimension: 'channel', value: 'Organic Search' } },
  { label: 'utm_campaign==spring;url_path==/pricing', event: `url_path = '/pricing'`, visit: { dimension: 'utm_campaign', value: 'spring' } },
]

/** The visit-level value of a dimension over one visit's raw events. */
const visitValue = (dimension: FilterPair['visit']['dimension']) =>
  dimension === 'entry_page' ? `argMinIf(url_path, ts, type = 'pageview')` : `argMin(${dimension}, ts)`

const BASE = `org_id = {org:String} AND site_id = {site:String} AND ts >= {from:DateTime64(3)} AND ts < {to:DateTime64(3)} AND NOT is_bot`

/** Sessions of the range whose first event matches the visit-level clause, from raw events. */
const rawVisits = (f: FilterPair) =>
  `SELECT session_id FROM ${DB}.events WHERE ${BASE} GROUP BY session_id HAVING ${visitValue(f.visit.dimension)} = '${f.visit.value}'`

/** The same set from the sessions table (merged states, as a read must while parts are unmerged). */
const tableVisits = (f: FilterPair) =>
  `SELECT session_id FROM ${DB}.bench_sessions WHERE ${SESSION_BASE} GROUP BY session_id HAVING ${sessionValue(f.visit.dimension)} = '${f.visit.value}'`

const SESSION_BASE = `org_id = {org:String} AND site_id = {site:String} AND day >= toDate({from:DateTime64(3)}) AND day < toDate({to:DateTime64(3)}) AND NOT is_bot`
const sessionValue = (dimension: FilterPair['visit']['dimension']) => `argMinMerge(${dimension === 'entry_page' ? 'entry_page' : dimension})`

export interface Candidate {
  storage: 'raw, visit set by IN' | 'raw, one scan per visit' | 'sessions table' | 'raw + skip indexes' | 'stamped visit columns'
  query: 'aggregate' | 'breakdown url_path' | 'breakdown entry_page' | 'breakdown channel' | 'timeseries day'
  sql: (f: FilterPair) => string
}

/** Per-visit figures from one scan of the range's raw events: the visit's own values and how many of its events the event clause keeps. */
const perVisitScan = (f: FilterPair, extra = '') => `SELECT session_id, any(anon_id) AS anon, ${visitValue(f.visit.dimension)} AS visit_value,
    countIf(${f.event}) AS kept, countIf(${f.event} AND type = 'pageview') AS kept_pageviews,
    countIf(type = 'pageview') AS v_pageviews, dateDiff('millisecond', min(ts), max(ts)) / 1000 AS v_duration${extra}
  FROM ${DB}.events WHERE ${BASE} GROUP BY session_id`

/** The visit-level clause on the visit's value the processor stamped on each of its events; an event without a visit matches none. */
const stamped = (f: FilterPair) => `session_id != '' AND ${f.visit.dimension} = '${f.visit.value}'`

/** Per-visit figures of the visits the stamped clause keeps: one scan of their events only, no visit set first. */
const stampedVisitScan = (f: FilterPair) => `SELECT session_id, any(anon_id) AS anon,
    countIf(${f.event}) AS kept, countIf(${f.event} AND type = 'pageview') AS kept_pageviews,
    countIf(type = 'pageview') AS v_pageviews, dateDiff('millisecond', min(ts), max(ts)) / 1000 AS v_duration
  FROM ${DB}.events WHERE ${BASE} AND ${stamped(f)} GROUP BY session_id`

const AGGREGATE_OUTER = `uniqExact(anon) AS visitors, count() AS visits, sum(kept) AS events, sum(kept_pageviews) AS pageviews,
    avg(v_pageviews <= 1) AS bounce_rate, quantileExact(0.5)(v_duration) AS duration_median, avg(v_duration) AS duration_mean`

/** The pageviews per path of the kept visits' kept events: the same SQL for each storage but for its visit clause. */
const urlPathBreakdown = (storage: Candidate['storage'], visits: (f: FilterPair) => string): Candidate => ({
  storage,
  query: 'breakdown url_path',
  sql: (f) => `SELECT url_path, uniqExact(anon_id) AS visitors, count() AS pageviews FROM ${DB}.events
WHERE ${BASE} AND type = 'pageview' AND ${f.event} AND ${visits(f)}
GROUP BY url_path ORDER BY visitors DESC, url_path LIMIT 10`,
})

/** Visitors and pageviews per day of the kept visits' kept events: the same SQL for each storage but for its visit clause. */
const dailySeries = (storage: Candidate['storage'], visits: (f: FilterPair) => string): Candidate => ({
  storage,
  query: 'timeseries day',
  sql: (f) => `SELECT toDate(ts) AS day, uniqExact(anon_id) AS visitors, countIf(type = 'pageview') AS pageviews FROM ${DB}.events
WHERE ${BASE} AND ${f.event} AND ${visits(f)}
GROUP BY day ORDER BY day`,
})

export const CANDIDATES: readonly Candidate[] = [
  // Two reads of the range: the visit set (GROUP BY session), then the kept events IN that set.
  {
    storage: 'raw, visit set by IN',
    query: 'aggregate',
    sql: (f) => `SELECT ${AGGREGATE_OUTER} FROM (
  SELECT session_id, any(anon_id) AS anon, count() AS kept, countIf(type = 'pageview') AS kept_pageviews FROM ${DB}.events
  WHERE ${BASE} AND ${f.event} AND session_id IN (${rawVisits(f)}) GROUP BY session_id
) AS k JOIN (
  SELECT session_id, countIf(type = 'pageview') AS v_pageviews, dateDiff('millisecond', min(ts), max(ts)) / 1000 AS v_duration FROM ${DB}.events
  WHERE ${BASE} GROUP BY session_id
) AS v USING (session_id)`,
  },
  urlPathBreakdown('raw, visit set by IN', (f) => `session_id IN (${rawVisits(f)})`),
  dailySeries('raw, visit set by IN', (f) => `session_id IN (${rawVisits(f)})`),
  // One read: every visit's figures at once, then the visit-level clause and "has a kept event" on the visits.
  {
    storage: 'raw, one scan per visit',
    query: 'aggregate',
    sql: (f) => `SELECT ${AGGREGATE_OUTER} FROM (${perVisitScan(f)}) WHERE kept > 0 AND visit_value = '${f.visit.value}'`,
  },
  {
    storage: 'raw, one scan per visit',
    query: 'breakdown entry_page',
    sql: (f) => `SELECT entry, uniqExact(anon) AS visitors, count() AS visits FROM (${perVisitScan(f, `, argMinIf(url_path, ts, type = 'pageview') AS entry`)})
WHERE kept > 0 AND visit_value = '${f.visit.value}' GROUP BY entry ORDER BY visitors DESC, entry LIMIT 10`,
  },
  {
    storage: 'raw, one scan per visit',
    query: 'breakdown channel',
    sql: (f) => `SELECT ch, uniqExact(anon) AS visitors, count() AS visits FROM (${perVisitScan(f, `, argMin(channel, ts) AS ch`)})
WHERE kept > 0 AND visit_value = '${f.visit.value}' GROUP BY ch ORDER BY visitors DESC, ch LIMIT 10`,
  },
  // The sessions table answers the visit-level part (and visit metrics); the event clause still reads raw events.
  {
    storage: 'sessions table',
    query: 'aggregate',
    sql: (f) => `SELECT ${AGGREGATE_OUTER} FROM (
  SELECT session_id, any(anon_id) AS anon, count() AS kept, countIf(type = 'pageview') AS kept_pageviews FROM ${DB}.events
  WHERE ${BASE} AND ${f.event} AND session_id IN (${tableVisits(f)}) GROUP BY session_id
) AS k JOIN (
  SELECT session_id, sum(pageviews) AS v_pageviews, dateDiff('millisecond', min(start), max(end)) / 1000 AS v_duration FROM ${DB}.bench_sessions
  WHERE ${SESSION_BASE} GROUP BY session_id
) AS v USING (session_id)`,
  },
  urlPathBreakdown('sessions table', (f) => `session_id IN (${tableVisits(f)})`),
  {
    storage: 'sessions table',
    query: 'breakdown entry_page',
    sql: (f) => `SELECT entry, uniqExact(anon) AS visitors, count() AS visits FROM (
  SELECT session_id, any(anon_id) AS anon, argMinMerge(entry_page) AS entry, ${sessionValue(f.visit.dimension)} AS visit_value
  FROM ${DB}.bench_sessions WHERE ${SESSION_BASE} GROUP BY session_id
) WHERE visit_value = '${f.visit.value}' AND session_id IN (SELECT session_id FROM ${DB}.events WHERE ${BASE} AND ${f.event})
GROUP BY entry ORDER BY visitors DESC, entry LIMIT 10`,
  },
  dailySeries('sessions table', (f) => `session_id IN (${tableVisits(f)})`),
  // Visit values stamped at write time: the visit-level clause is a column test beside the event clause; per-visit
  // figures (bounce, duration) still group the kept visits' events, breakdowns and series read events one by one.
  {
    storage: 'stamped visit columns',
    query: 'aggregate',
    sql: (f) => `SELECT ${AGGREGATE_OUTER} FROM (${stampedVisitScan(f)}) WHERE kept > 0`,
  },
  urlPathBreakdown('stamped visit columns', stamped),
  {
    storage: 'stamped visit columns',
    query: 'breakdown entry_page',
    sql: (f) => `SELECT entry_page AS entry, uniqExact(anon_id) AS visitors, uniqExact(session_id) AS visits FROM ${DB}.events
WHERE ${BASE} AND ${f.event} AND ${stamped(f)}
GROUP BY entry ORDER BY visitors DESC, entry LIMIT 10`,
  },
  {
    storage: 'stamped visit columns',
    query: 'breakdown channel',
    sql: (f) => `SELECT channel AS ch, uniqExact(anon_id) AS visitors, uniqExact(session_id) AS visits FROM ${DB}.events
WHERE ${BASE} AND ${f.event} AND ${stamped(f)}
GROUP BY ch ORDER BY visitors DESC, ch LIMIT 10`,
  },
  dailySeries('stamped visit columns', stamped),
]

/**
 * The sessions table a materialized view on `events` would fill: one row per (site, start day, session) once merged;
 * a visit's first-event values as argMin states, so a read merges whatever parts are unmerged.
 */
export const SESSIONS_DDL = `CREATE TABLE IF NOT EXISTS ${DB}.bench_sessions
(
    org_id LowCardinality(String),
    site_id LowCardinality(String),
    day Date,
    session_id String,
    is_bot SimpleAggregateFunction(max, Bool),
    anon_id SimpleAggregateFunction(any, String),
    start SimpleAggregateFunction(min, DateTime64(3, 'UTC')),
    end SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    events SimpleAggregateFunction(sum, UInt64),
    pageviews SimpleAggregateFunction(sum, UInt64),
    entry_page AggregateFunction(argMin, String, DateTime64(3, 'UTC')),
    exit_page AggregateFunction(argMax, String, DateTime64(3, 'UTC')),
    channel AggregateFunction(argMin, LowCardinality(String), DateTime64(3, 'UTC')),
    utm_source AggregateFunction(argMin, LowCardinality(String), DateTime64(3, 'UTC')),
    utm_medium AggregateFunction(argMin, LowCardinality(String), DateTime64(3, 'UTC')),
    utm_campaign AggregateFunction(argMin, LowCardinality(String), DateTime64(3, 'UTC'))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (org_id, site_id, day, session_id)`

/** What the view's SELECT would be, run once over the stored events (the same rows the view writes at insert time, merged). */
export const SESSIONS_FILL = `INSERT INTO ${DB}.bench_sessions
SELECT org_id, site_id, toDate(min(ts)) AS day, session_id, max(is_bot), any(anon_id), min(ts), max(ts), count(), countIf(type = 'pageview'),
    argMinStateIf(url_path, ts, type = 'pageview'), argMaxStateIf(url_path, ts, type = 'pageview'),
    argMinState(channel, ts), argMinState(utm_source, ts), argMinState(utm_medium, ts), argMinState(utm_campaign, ts)
FROM ${DB}.events GROUP BY org_id, site_id, session_id`

/** Skip indexes on the filtered columns (a candidate: they pay only when a value is absent from most granules). */
export const SKIP_INDEXES = [
  `ALTER TABLE ${DB}.events ADD INDEX IF NOT EXISTS bench_utm_campaign utm_campaign TYPE set(100) GRANULARITY 4`,
  `ALTER TABLE ${DB}.events ADD INDEX IF NOT EXISTS bench_url_path url_path TYPE bloom_filter(0.01) GRANULARITY 4`,
  `ALTER TABLE ${DB}.events ADD INDEX IF NOT EXISTS bench_country country TYPE set(100) GRANULARITY 4`,
  `ALTER TABLE ${DB}.events MATERIALIZE INDEX bench_utm_campaign SETTINGS mutations_sync = 2`,
  `ALTER TABLE ${DB}.events MATERIALIZE INDEX bench_url_path SETTINGS mutations_sync = 2`,
  `ALTER TABLE ${DB}.events MATERIALIZE INDEX bench_country SETTINGS mutations_sync = 2`,
]
export const DROP_SKIP_INDEXES = ['bench_utm_campaign', 'bench_url_path', 'bench_country'].map(
  (i) => `ALTER TABLE ${DB}.events DROP INDEX IF EXISTS ${i}`,
)

export interface StorageRow {
  storage: string
  query: string
  filters: string
  days: number
  p50: number
  p95: number
  /** Median CPU time of this process per run (chDB runs in it): the work done, whatever else the machine runs. */
  cpu50: number
  rowsRead: number
  mibRead: number
  /** The answer's first row, to see the candidates agree. */
  head: string
  rows: number
}

/** Times one query: `warmup` untimed, `runs` timed, then once with FORMAT JSON for ClickHouse's rows-read statistics. */
export async function timeSql(
  client: Warehouse,
  sql: string,
  params: Record<string, unknown>,
  warmup: number,
  runs: number,
): Promise<{ p50: number; p95: number; cpu50: number; rowsRead: number; bytesRead: number; data: Record<string, unknown>[] }> {
  const run = async () => (await client.query({ query: sql, query_params: params, format: 'JSONEachRow' })).json<Record<string, unknown>>()
  for (let i = 0; i < warmup; i++) await run()
  const samples: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage()
    const t = performance.now()
    await run()
    samples.push(performance.now() - t)
    const used = process.cpuUsage(c)
    cpu.push((used.user + used.system) / 1000)
  }
  const body = await (await client.query({ query: sql, query_params: params, format: 'JSON' })).json<{ data: Record<string, unknown>[]; statistics?: { rows_read?: number; bytes_read?: number } }>()
  const stats: { rows_read?: number; bytes_read?: number } = body.statistics ?? {}
  return {
    p50: percentile(samples, 0.5),
    p95: percentile(samples, 0.95),
    cpu50: percentile(cpu, 0.5),
    rowsRead: Number(stats.rows_read ?? 0),
    bytesRead: Number(stats.bytes_read ?? 0),
    data: body.data,
  }
}

export function rangeParams(endDayMs: number, days: number, org: string, site: string): Record<string, unknown> {
  const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
  return { org, site, from: iso(endDayMs - days * DAY_MS), to: iso(endDayMs) }
}

/** Every candidate for both filter pairs over 30 and 90 days; `storages` picks which ones (the skip-index pass re-runs the raw ones). */
export async function measureCandidates(
  client: Warehouse,
  o: { org: string; site: string; endDayMs: number; warmup: number; runs: number; storages: readonly Candidate['storage'][]; label?: Candidate['storage'] },
  log: (line: string) => void,
): Promise<StorageRow[]> {
  const out: StorageRow[] = []
  for (const days of [30, 90]) {
    const params = rangeParams(o.endDayMs, days, o.org, o.site)
    for (const f of FILTER_PAIRS) {
      for (const c of CANDIDATES.filter((c) => o.storages.includes(c.storage))) {
        const t = await timeSql(client, c.sql(f), params, o.warmup, o.runs)
        const row: StorageRow = {
          storage: o.label ?? c.storage,
          query: c.query,
          filters: f.label,
          days,
          p50: t.p50,
          p95: t.p95,
          cpu50: t.cpu50,
          rowsRead: t.rowsRead,
          mibRead: t.bytesRead / 1048576,
          head: JSON.stringify(t.data[0] ?? {}),
          rows: t.data.length,
        }
        out.push(row)
        log(`  [${row.storage}] ${row.query} | ${f.label} | ${days} d: p50 ${row.p50.toFixed(0)} ms, p95 ${row.p95.toFixed(0)} ms, CPU ${row.cpu50.toFixed(0)} ms, ${row.rowsRead} rows; ${row.head}`)
      }
    }
  }
  return out
}

export function storageTable(rows: readonly StorageRow[]): string {
  const head =
    '| storage | query | filters | days | p50 ms | p95 ms | CPU ms (p50) | rows read | MiB read | first row of the answer |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
  const body = rows.map(
    (r) =>
      `| ${r.storage} | ${r.query} | \`${r.filters}\` | ${r.days} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.cpu50.toFixed(0)} | ${r.rowsRead.toLocaleString('en-US')} | ${r.mibRead.toFixed(1)} | ${r.head.replace(/\|/g, '\\|').slice(0, 140)} |`,
  )
  return [head, ...body].join('\n')
}
