import {
  AUDIT_LOG_TTL_MONTHS,
  type AuditRow,
  CONSENT_LOG_TTL_MONTHS,
  EVENTS_TTL_MONTHS,
  PRIVACY_REQUESTS_TTL_MONTHS,
  ROLLUP_TTL_MONTHS,
  toWarehouseTime,
  WAREHOUSE_DATABASE as DB,
} from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

export interface Migration {
  version: number
  name: string
  /** Each statement is idempotent on its own, so a migration cut short can simply run again. */
  statements: string[]
}

/** A rollup table and the view that feeds it from `events`; hourly and daily differ only in the bucket. */
function rollupStatements(table: string, bucketType: string, bucketExpr: string): string[] {
  const dims = 'type, name, url_path, referrer_host, country, browser, os, device_type, is_bot'
  return [
    `CREATE TABLE IF NOT EXISTS ${DB}.${table}
(
    org_id LowCardinality(String),
    site_id LowCardinality(String),
    bucket ${bucketType},
    type LowCardinality(String),
    name String,
    url_path String,
    referrer_host LowCardinality(String),
    country LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String),
    device_type LowCardinality(String),
    is_bot Bool,
    events SimpleAggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniq, String),
    sessions AggregateFunction(uniq, String),
    accounts AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, site_id, bucket, ${dims})
TTL toDateTime(bucket) + INTERVAL ${ROLLUP_TTL_MONTHS} MONTH
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${DB}.${table}_mv TO ${DB}.${table} AS
SELECT
    org_id, site_id, ${bucketExpr} AS bucket,
    ${dims},
    toUInt64(count()) AS events,
    uniqStateIf(anon_id, anon_id != '') AS visitors,
    uniqStateIf(session_id, session_id != '') AS sessions,
    uniqStateIf(user_pid, user_pid != '') AS accounts
FROM ${DB}.events
GROUP BY org_id, site_id, bucket, ${dims}`,
  ]
}

/**
 * A per-dimension rollup and its view (migration 8): every event becomes one input row per dimension
 * (ARRAY JOIN) plus one under the totals pseudo-dimension '', so a row is (bucket, is_bot, type, one
 * dimension's value), never a combination. The key leads with the dimension: a read of one dimension
 * (or of the totals) touches only its rows.
 */
function dimensionRollupStatements(table: string, bucketType: string, bucketExpr: string): string[] {
  const dims = ['url_path', 'referrer_host', 'country', 'browser', 'os', 'device_type', 'name']
  return [
    `CREATE TABLE IF NOT EXISTS ${DB}.${table}
(
    org_id LowCardinality(String),
    site_id LowCardinality(String),
    dimension LowCardinality(String),
    is_bot Bool,
    type LowCardinality(String),
    bucket ${bucketType},
    value String,
    events SimpleAggregateFunction(sum, UInt64),
    visitors AggregateFunction(uniq, String),
    sessions AggregateFunction(uniq, String),
    accounts AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(bucket)
ORDER BY (org_id, site_id, dimension, is_bot, type, bucket, value)
TTL toDateTime(bucket) + INTERVAL ${ROLLUP_TTL_MONTHS} MONTH
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${DB}.${table}_mv TO ${DB}.${table} AS
SELECT
    org_id, site_id, dimension, is_bot, type, ${bucketExpr} AS bucket, value,
    toUInt64(count()) AS events,
    uniqStateIf(anon_id, anon_id != '') AS visitors,
    uniqStateIf(session_id, session_id != '') AS sessions,
    uniqStateIf(user_pid, user_pid != '') AS accounts
FROM ${DB}.events
ARRAY JOIN ['', ${dims.map((d) => `'${d}'`).join(', ')}] AS dimension, ['', ${dims.join(', ')}] AS value
GROUP BY org_id, site_id, dimension, is_bot, type, bucket, value`,
  ]
}

/** A consent_log row with a time finer than the hour (stored before migration 9). */
const FINE_RECEIPT = '(ts != toStartOfHour(ts) OR received_at != toStartOfHour(received_at))'

/** A visit's values, as the processor stamps them on every event with a session_id (processor/src/enrich/visit-attribution.ts). */
const VISIT_COLUMNS = ['channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'entry_page'] as const
/** Migration 12's scratch table: each stored visit's values, read by joinGet in the backfill's mutation, dropped after. */
const VISIT_BACKFILL = `${DB}.visit_attribution_backfill`

/** Append-only: never edit a released migration, add the next version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    statements: [
      `CREATE TABLE IF NOT EXISTS ${DB}.events
(
    event_id UUID,
    org_id LowCardinality(String),
    site_id LowCardinality(String),
    type LowCardinality(String),
    name String,
    ts DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    anon_id String,
    session_id String,
    user_pid String,
    url_path String,
    url_host LowCardinality(String),
    referrer_host LowCardinality(String),
    props Map(LowCardinality(String), String),
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    os LowCardinality(String),
    os_version LowCardinality(String),
    device_type LowCardinality(String),
    is_bot Bool,
    screen_w UInt32,
    screen_h UInt32,
    locale LowCardinality(String),
    tz LowCardinality(String),
    country LowCardinality(String),
    ip_prefix String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (org_id, site_id, toDate(ts), type, event_id)
TTL toDateTime(ts) + INTERVAL ${EVENTS_TTL_MONTHS} MONTH
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000`,
    ],
  },
  {
    version: 2,
    name: 'consent_log',
    statements: [
      `CREATE TABLE IF NOT EXISTS ${DB}.consent_log
(
    receipt_id UUID,
    org_id LowCardinality(String),
    site_id LowCardinality(String),
    analytics Bool,
    preferences Bool,
    source LowCardinality(String),
    policy_revision LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (org_id, site_id, received_at, receipt_id)
TTL toDateTime(received_at) + INTERVAL ${CONSENT_LOG_TTL_MONTHS} MONTH
SETTINGS ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000`,
    ],
  },
  {
    version: 3,
    name: 'audit_log',
    // Subjects only as sha256; the TTL here is the default, AUDIT_LOG_TTL_MONTHS re-applies the configured one at start-up.
    statements: [
      `CREATE TABLE IF NOT EXISTS ${DB}.audit_log
(
    time DateTime64(3, 'UTC'),
    actor_key_id LowCardinality(String),
    org_id LowCardinality(String),
    action LowCardinality(String),
    subject_hash String,
    result LowCardinality(String),
    detail String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (org_id, time, action)
TTL toDateTime(time) + INTERVAL ${AUDIT_LOG_TTL_MONTHS} MONTH
SETTINGS ttl_only_drop_parts = 1`,
    ],
  },
  {
    version: 4,
    name: 'privacy_requests',
    // One row per status change; ReplacingMergeTree(version) keeps the latest, reads use FINAL.
    statements: [
      `CREATE TABLE IF NOT EXISTS ${DB}.privacy_requests
(
    request_id UUID,
    org_id LowCardinality(String),
    kind LowCardinality(String),
    subject_kind LowCardinality(String),
    subject_hash String,
    actor_key_id LowCardinality(String),
    status LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    finished_at Nullable(DateTime64(3, 'UTC')),
    detail String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (org_id, request_id)
TTL toDateTime(created_at) + INTERVAL ${PRIVACY_REQUESTS_TTL_MONTHS} MONTH`,
    ],
  },
  {
    version: 5,
    name: 'suppressions',
    // No TTL: an objection holds until the subject lifts it, and a row holds only a pseudonym (docs/privacy.md).
    statements: [
      `CREATE TABLE IF NOT EXISTS ${DB}.suppressions
(
    org_id LowCardinality(String),
    subject_kind LowCardinality(String),
    subject String,
    active Bool,
    updated_at DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, subject_kind, subject)`,
    ],
  },
  {
    version: 6,
    name: 'rollup_hourly',
    // No identifier columns: visitors, sessions and accounts are uniq sketches. Backfill: warehouse/rollups.ts.
    // The dedup window lets a repeated events insert skip the views too (deduplicate_blocks_in_dependent_materialized_views, client.ts).
    statements: rollupStatements('rollup_hourly', "DateTime('UTC')", 'toStartOfHour(toDateTime(ts))'),
  },
  {
    version: 7,
    name: 'rollup_daily',
    // Days are UTC; the hourly table serves other time zones.
    statements: rollupStatements('rollup_daily', 'Date', 'toDate(ts)'),
  },
  {
    version: 8,
    name: 'rollup_dims',
    // Replaces 6 and 7, whose every-dimension key made about one row per event. New views first, so no insert made meanwhile
    // misses the new tables; then the old views and tables go (pre-release: nothing in them that raw events cannot rebuild).
    // History is filled from raw events by the backfill (warehouse/rollups.ts), as for 6 and 7.
    statements: [
      ...dimensionRollupStatements('rollup_dims_hourly', "DateTime('UTC')", 'toStartOfHour(toDateTime(ts))'),
      ...dimensionRollupStatements('rollup_dims_daily', 'Date', 'toDate(ts)'),
      `DROP VIEW IF EXISTS ${DB}.rollup_hourly_mv`,
      `DROP VIEW IF EXISTS ${DB}.rollup_daily_mv`,
      `DROP TABLE IF EXISTS ${DB}.rollup_hourly`,
      `DROP TABLE IF EXISTS ${DB}.rollup_daily`,
    ],
  },
  {
    version: 9,
    name: 'consent_log_hourly',
    // Millisecond receipt times linked a receipt to the visitor's first event: stored rows keep the hour only, as new ones
    // do (enrich/consent-row.ts). received_at is a key column, so rows are copied coarse, then the fine ones deleted by a
    // mutation (it rewrites the parts; a lightweight DELETE would only mask them). Each step skips what is done, so a cut-short
    // run repeats safely, and a fine row is deleted only once its coarse copy exists.
    statements: [
      `INSERT INTO ${DB}.consent_log
SELECT receipt_id, org_id, site_id, analytics, preferences, source, policy_revision, toStartOfHour(ts), toStartOfHour(received_at)
FROM ${DB}.consent_log
WHERE ${FINE_RECEIPT} AND receipt_id NOT IN (SELECT receipt_id FROM ${DB}.consent_log WHERE NOT ${FINE_RECEIPT})`,
      `ALTER TABLE ${DB}.consent_log DELETE
WHERE ${FINE_RECEIPT} AND receipt_id IN (SELECT receipt_id FROM ${DB}.consent_log WHERE NOT ${FINE_RECEIPT})
SETTINGS mutations_sync = 2`,
    ],
  },
  {
    version: 10,
    name: 'events_attribution',
    // Campaign tags of the page URL and the event's channel (processor/enrich/utm.ts, channel.ts). Rows stored before hold ''.
    // A visit's values are those of its first event, taken at query time.
    statements: [
      `ALTER TABLE ${DB}.events
    ADD COLUMN IF NOT EXISTS utm_source LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS utm_medium LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS utm_campaign LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS utm_term LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS utm_content LowCardinality(String) DEFAULT '',
    ADD COLUMN IF NOT EXISTS channel LowCardinality(String) DEFAULT ''`,
    ],
  },
  {
    version: 11,
    name: 'shared_links',
    // Read-only dashboard links: only the sha256 (hex) of the secret token is kept; created_by is the admin key id.
    // One row per change (create, revoke); ReplacingMergeTree(version) keeps the latest, reads use FINAL.
    statements: [
      `CREATE TABLE IF NOT EXISTS ${DB}.shared_links
(
    link_id String,
    org_id LowCardinality(String),
    site_id LowCardinality(String),
    token_hash String,
    label String,
    created_by LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    expires_at DateTime64(3, 'UTC'),
    revoked_at Nullable(DateTime64(3, 'UTC')),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org_id, link_id)
TTL toDateTime(expires_at) + INTERVAL 1 MONTH`,
    ],
  },
  {
    version: 12,
    name: 'events_visit_attribution',
    // From now on every event with a session_id carries its visit's values (the first event's channel and utm_*, the first
    // pageview's url_path as entry_page), stamped by the processor at write time, so visit filters are column predicates.
    // Stored rows get the same by one mutation reading a Join table of per-visit values. Cut short, the run repeats: the
    // scratch table is rebuilt, and the values of a visit already updated are the same again. A session the scratch table
    // lacks (written meanwhile, already stamped) keeps its values (joinGetOrNull).
    statements: [
      `ALTER TABLE ${DB}.events ADD COLUMN IF NOT EXISTS entry_page LowCardinality(String) DEFAULT ''`,
      `DROP TABLE IF EXISTS ${VISIT_BACKFILL}`,
      `CREATE TABLE ${VISIT_BACKFILL}
(
    org_id String,
    site_id String,
    session_id String,
${VISIT_COLUMNS.map((c) => `    ${c} String`).join(',\n')}
)
ENGINE = Join(ANY, LEFT, org_id, site_id, session_id)`,
      `INSERT INTO ${VISIT_BACKFILL}
SELECT
    toString(org_id), toString(site_id), session_id,
${VISIT_COLUMNS.filter((c) => c !== 'entry_page')
  .map((c) => `    toString(argMin(${c}, (ts, toString(event_id))))`)
  .join(',\n')},
    argMinIf(url_path, (ts, toString(event_id)), type = 'pageview')
FROM ${DB}.events
WHERE session_id != ''
GROUP BY org_id, site_id, session_id`,
      `ALTER TABLE ${DB}.events UPDATE
${VISIT_COLUMNS.map((c) => `    ${c} = ifNull(joinGetOrNull('${VISIT_BACKFILL}', '${c}', toString(org_id), toString(site_id), session_id), ${c})`).join(',\n')}
WHERE session_id != ''
SETTINGS mutations_sync = 2, allow_nondeterministic_mutations = 1`,
      `DROP TABLE IF EXISTS ${VISIT_BACKFILL}`,
    ],
  },
]

/** The version that creates `audit_log`; migrations applied once it exists are recorded there too. */
const AUDIT_LOG_VERSION = 3

export interface MigrationResult {
  applied: number[]
  current: number
}

/** Brings the warehouse to the latest version; safe to run on every start and from several processes. */
export async function migrate(client: ClickHouseClient, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${DB}` })
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${DB}.schema_migrations
(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
ENGINE = ReplacingMergeTree ORDER BY version`,
  })
  const done = new Set(await appliedVersions(client))
  const applied: number[] = []
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue
    for (const statement of m.statements) await client.command({ query: statement })
    await client.insert({ table: `${DB}.schema_migrations`, values: [{ version: m.version, name: m.name }], format: 'JSONEachRow' })
    applied.push(m.version)
  }
  const all = [...done, ...applied]
  if (applied.length > 0 && all.includes(AUDIT_LOG_VERSION)) await auditMigrations(client, migrations, applied)
  return { applied, current: all.length ? Math.max(...all) : 0 }
}

/** One audit_log row per version this run applied (including those before audit_log existed). */
async function auditMigrations(client: ClickHouseClient, migrations: readonly Migration[], applied: number[]): Promise<void> {
  const time = toWarehouseTime(Date.now())
  const values: AuditRow[] = applied.map((version) => ({
    time,
    actor_key_id: 'system',
    org_id: '',
    action: 'migration',
    subject_hash: '',
    result: 'ok',
    detail: JSON.stringify({ version, name: migrations.find((m) => m.version === version)?.name ?? '' }),
  }))
  await client.insert({ table: `${DB}.audit_log`, values, format: 'JSONEachRow' })
}

export async function appliedVersions(client: ClickHouseClient): Promise<number[]> {
  const rs = await client.query({ query: `SELECT DISTINCT version FROM ${DB}.schema_migrations ORDER BY version`, format: 'JSONEachRow' })
  return (await rs.json<{ version: number }>()).map((r) => Number(r.version))
}
