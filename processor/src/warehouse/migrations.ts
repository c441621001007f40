import { CONSENT_LOG_TTL_MONTHS, EVENTS_TTL_MONTHS, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

export interface Migration {
  version: number
  name: string
  /** Each statement is idempotent on its own, so a migration cut short can simply run again. */
  statements: string[]
}

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
]

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
  return { applied, current: all.length ? Math.max(...all) : 0 }
}

export async function appliedVersions(client: ClickHouseClient): Promise<number[]> {
  const rs = await client.query({ query: `SELECT DISTINCT version FROM ${DB}.schema_migrations ORDER BY version`, format: 'JSONEachRow' })
  return (await rs.json<{ version: number }>()).map((r) => Number(r.version))
}
