import { parseArgs } from 'node:util'
import { WAREHOUSE_DATABASE as DB, OrgConfig } from '@atspark/schemas'
import { z } from 'zod'

/**
 * Direct SQL for an org's analysts on a ClickHouse server: one read-only role per org, SELECT on the
 * tables below only, and on each of them a permissive plus a restrictive row policy `org_id = '<org>'`
 * (docs/analysts.md, Direct SQL). Pure: it returns statements, the operator pipes them to clickhouse-client.
 */

/** Columns of `events` an analyst may not read, and why; every other column is granted (see EVENTS_GRANTED_COLUMNS). */
export const EVENTS_WITHHELD_COLUMNS = {
  anon_id: 'a device identifier kept up to 13 months: it follows one browser across sessions; visitors come from the rollups instead',
  user_pid: 'a stable pseudonym of a signed-in account, linkable to the person by whoever holds the org key',
  ip_prefix: 'a network location (/24, /48); country is there for geography',
  props: 'free-form properties the host page sent, never reviewed for personal data',
} as const

/** Granted `events` columns, listed rather than derived: a column a later migration adds stays unreadable until classified here. */
export const EVENTS_GRANTED_COLUMNS = [
  'event_id',
  'org_id',
  'site_id',
  'type',
  'name',
  'ts',
  'received_at',
  'session_id',
  'url_path',
  'url_host',
  'referrer_host',
  'browser',
  'browser_version',
  'os',
  'os_version',
  'device_type',
  'is_bot',
  'screen_w',
  'screen_h',
  'locale',
  'tz',
  'country',
  // Migration 10: campaign tags with personal-data-looking values already dropped by the processor, and the channel.
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'channel',
  // Migration 12: the url_path of the visit's first pageview, stamped on each of its events.
  'entry_page',
] as const

/** Tables an org's analysts read (every one of them has an `org_id` column and gets both row policies); `null` is every column. */
export const ANALYST_TABLES: Readonly<Record<string, readonly string[] | null>> = {
  rollup_dims_hourly: null,
  rollup_dims_daily: null,
  consent_log: null,
  events: EVENTS_GRANTED_COLUMNS,
}

/** Tables and views never granted, and why. A table in `atspark` that is in neither list is a test failure, not a silent grant. */
export const ANALYST_DENIED_TABLES = {
  audit_log: 'who did what to whom: actor key ids and subject hashes of privacy requests',
  privacy_requests: 'data-subject requests and their proofs',
  suppressions: 'pseudonyms of people who objected; reading them would single those people out',
  schema_migrations: 'internal bookkeeping',
  shared_links: 'hashes of secret dashboard-link tokens and which admin key made each link',
  rollup_dims_hourly_mv: 'a materialized view reads through to its target without the target row policies',
  rollup_dims_daily_mv: 'a materialized view reads through to its target without the target row policies',
} as const

const RolePrefix = z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'role prefix: lowercase letter, then letters, digits or _ (at most 40)')
/** A ClickHouse user name we are willing to create: plain, so it is never mistaken for name@host. */
const UserName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'user name: letters, digits, _ . - (at most 64)')
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'password_sha256 is the lowercase hex SHA-256 of the password')

export const QuotaInterval = z.enum(['minute', 'hour', 'day', 'week', 'month'])
export type QuotaInterval = z.infer<typeof QuotaInterval>

/** Per-role quota (one budget shared by every user of the org's role); at least one maximum. */
export const AnalystQuota = z
  .strictObject({
    interval: QuotaInterval.default('hour'),
    queries: z.number().int().min(1).optional(),
    execution_time: z.number().int().min(1).optional().describe('seconds of query time per interval'),
    result_rows: z.number().int().min(1).optional(),
    read_rows: z.number().int().min(1).optional(),
  })
  .refine((q) => q.queries !== undefined || q.execution_time !== undefined || q.result_rows !== undefined || q.read_rows !== undefined, {
    message: 'a quota needs at least one maximum',
  })
export type AnalystQuota = z.infer<typeof AnalystQuota>

export const AnalystAccessOptions = z.strictObject({
  /** The org's id, validated exactly like the tenants file's. */
  org: OrgConfig.shape.id,
  role_prefix: RolePrefix.default('atspark_analyst'),
  /** Optional login for the role; only the SHA-256 of its password ever appears. */
  user: z.strictObject({ name: UserName, password_sha256: Sha256Hex }).optional(),
  /** 1: reads only, no setting changes; 2: reads, and settings may change within the bounds below (BI tools that send settings). */
  readonly: z.union([z.literal(1), z.literal(2)]).default(1),
  max_execution_time: z.number().int().min(1).max(86_400).default(60),
  max_result_rows: z.number().int().min(1).max(1_000_000_000).default(100_000),
  quota: AnalystQuota.optional(),
})
export type AnalystAccessOptions = z.infer<typeof AnalystAccessOptions>
export type AnalystAccessInput = z.input<typeof AnalystAccessOptions>

export interface AnalystAccess {
  org: string
  /** Role name (unquoted); also the name of its settings profile and quota. */
  role: string
  /** The row filter every granted table gets, as SQL. */
  filter: string
  statements: string[]
}

/** Backquoted only when not a plain identifier, as ClickHouse's own formatter prints it. */
export function quoteIdentifier(name: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return name
  return '`' + name.replace(/[\\`]/g, (c) => '\\' + c) + '`'
}

/** A single-quoted ClickHouse string literal; backslash is an escape character there, so it is escaped too. */
export function quoteString(value: string): string {
  return "'" + value.replace(/[\\']/g, (c) => '\\' + c) + "'"
}

export function analystRole(org: string, rolePrefix = 'atspark_analyst'): string {
  return `${rolePrefix}_${org}`
}

/** The row filter of an org's policies: the same expression on every granted table. */
export function orgFilter(org: string): string {
  return `org_id = ${quoteString(org)}`
}

function grantStatement(role: string): string {
  const elements = Object.entries(ANALYST_TABLES).map(([table, columns]) => `SELECT${columns ? `(${columns.join(', ')})` : ''} ON ${DB}.${table}`)
  // REPLACE: re-applying converges on exactly this list, revoking anything granted to the role before.
  return `GRANT ${elements.join(', ')} TO ${quoteIdentifier(role)} WITH REPLACE OPTION`
}

function profileStatement(role: string, o: AnalystAccessOptions): string {
  const r = quoteIdentifier(role)
  // MIN 1: a limit of 0 means unlimited, so it may be lowered under readonly = 2 but never lifted.
  return (
    `CREATE SETTINGS PROFILE OR REPLACE ${r} SETTINGS readonly = ${o.readonly} CONST, ` +
    `max_execution_time = ${o.max_execution_time} MIN 1 MAX ${o.max_execution_time}, ` +
    `max_result_rows = ${o.max_result_rows} MIN 1 MAX ${o.max_result_rows} TO ${r}`
  )
}

function quotaStatement(role: string, q: AnalystQuota): string {
  const maxima = (['queries', 'execution_time', 'result_rows', 'read_rows'] as const).flatMap((k) => (q[k] === undefined ? [] : [`${k} = ${q[k]}`]))
  const r = quoteIdentifier(role)
  return `CREATE QUOTA OR REPLACE ${r} NOT KEYED FOR INTERVAL 1 ${q.interval} MAX ${maxima.join(', ')} TO ${r}`
}

/** Row policy names: one pair per org and table, so orgs never replace each other's. */
export function policyNames(role: string): { allow: string; limit: string } {
  return { allow: `${role}_allow`, limit: `${role}_limit` }
}

function policyStatements(role: string, filter: string): string[] {
  const { allow, limit } = policyNames(role)
  const r = quoteIdentifier(role)
  return Object.keys(ANALYST_TABLES).flatMap((table) => [
    // PERMISSIVE grants the org's rows; without any permissive policy a role-holder could read every row.
    `CREATE ROW POLICY OR REPLACE ${quoteIdentifier(allow)} ON ${DB}.${table} AS PERMISSIVE FOR SELECT USING ${filter} TO ${r}`,
    // RESTRICTIVE is ANDed over any other permissive policy (e.g. a later `USING 1 TO ALL`), so nothing widens it.
    `CREATE ROW POLICY OR REPLACE ${quoteIdentifier(limit)} ON ${DB}.${table} AS RESTRICTIVE FOR SELECT USING ${filter} TO ${r}`,
  ])
}

function userStatements(role: string, user: { name: string; password_sha256: string }): string[] {
  const u = quoteIdentifier(user.name)
  const r = quoteIdentifier(role)
  const auth = `IDENTIFIED WITH sha256_hash BY ${quoteString(user.password_sha256)}`
  // Create if missing, then converge an existing user on this password and role.
  return [`CREATE USER IF NOT EXISTS ${u} ${auth} DEFAULT ROLE ${r}`, `GRANT ${r} TO ${u}`, `ALTER USER ${u} ${auth} DEFAULT ROLE ${r}`]
}

/**
 * The statements for one org, in an order that never widens access mid-way: the role, its limits and
 * its row policies exist before the grant makes any table readable, and the user comes last.
 */
export function analystAccess(input: AnalystAccessInput): AnalystAccess {
  const o = AnalystAccessOptions.parse(input)
  const role = analystRole(o.org, o.role_prefix)
  const filter = orgFilter(o.org)
  const statements = [
    `CREATE ROLE IF NOT EXISTS ${quoteIdentifier(role)}`,
    profileStatement(role, o),
    ...(o.quota ? [quotaStatement(role, o.quota)] : []),
    ...policyStatements(role, filter),
    grantStatement(role),
    ...(o.user ? userStatements(role, o.user) : []),
  ]
  return { org: o.org, role, filter, statements }
}

export const PIPELINE_POLICY = 'atspark_pipeline'

/**
 * For the pipeline's own ClickHouse user: `USING 1` on every table that has analyst policies. Needed only
 * where `users_without_row_policies_can_read_rows` is off or `throw_on_unmatched_row_policies` is on;
 * harmless otherwise, and it cannot widen an analyst role (their restrictive policy still applies).
 */
export function pipelinePolicyStatements(writerUser: string): string[] {
  const w = quoteIdentifier(UserName.parse(writerUser))
  return Object.keys(ANALYST_TABLES).map(
    (table) => `CREATE ROW POLICY OR REPLACE ${PIPELINE_POLICY} ON ${DB}.${table} AS PERMISSIVE FOR SELECT USING 1 TO ${w}`,
  )
}

/** Statements as a script for `clickhouse-client --multiquery`: one per line, each ended by `;`. */
export function toScript(header: readonly string[], statements: readonly string[]): string {
  return [...header.map((line) => `-- ${line}`), ...statements.map((s) => `${s};`)].join('\n') + '\n'
}

export interface AnalystSqlArgs {
  /** Empty: every org of ATSPARK_TENANTS_FILE. */
  orgs: string[]
  options: Omit<AnalystAccessInput, 'org'>
  writer?: string | undefined
  help: boolean
}

const INTEGER = /^[0-9]+$/

function intFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!INTEGER.test(value)) throw new Error(`--${name} must be a whole number, got ${JSON.stringify(value)}`)
  return Number(value)
}

export const ANALYST_SQL_USAGE = `usage: node warehouse/dist/cli/analyst-sql.js [--org ID]... [options] | clickhouse-client --multiquery
  --org ID                    an org (repeatable); none: every org of ATSPARK_TENANTS_FILE
  --prefix NAME               role name prefix (default atspark_analyst): the role is NAME_<org>
  --user NAME                 also create this login with the role as its default (one org only)
  --password-sha256 HEX       the SHA-256 of that login's password (required with --user)
  --readonly 1|2              1 (default): no setting changes; 2: settings may change within the limits
  --max-execution-time S      seconds per query (default 60)
  --max-result-rows N         rows per result (default 100000)
  --quota-interval I          minute|hour|day|week|month (default hour), with any of:
  --quota-queries N  --quota-execution-time S  --quota-result-rows N  --quota-read-rows N
  --writer NAME               also let the pipeline's ClickHouse user read every row (see docs/analysts.md, Direct SQL)`

/** Flags to options; values are validated by AnalystAccessOptions when the SQL is built. */
export function parseAnalystSqlArgs(argv: readonly string[]): AnalystSqlArgs {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      org: { type: 'string', multiple: true },
      prefix: { type: 'string' },
      user: { type: 'string' },
      'password-sha256': { type: 'string' },
      readonly: { type: 'string' },
      'max-execution-time': { type: 'string' },
      'max-result-rows': { type: 'string' },
      'quota-interval': { type: 'string' },
      'quota-queries': { type: 'string' },
      'quota-execution-time': { type: 'string' },
      'quota-result-rows': { type: 'string' },
      'quota-read-rows': { type: 'string' },
      writer: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const orgs = values.org ?? []
  if ((values.user === undefined) !== (values['password-sha256'] === undefined)) throw new Error('--user and --password-sha256 go together')
  if (values.user !== undefined && orgs.length !== 1) throw new Error('--user needs exactly one --org: a login holds one org role')
  const readonly = intFlag('readonly', values.readonly)
  if (readonly !== undefined && readonly !== 1 && readonly !== 2) throw new Error('--readonly is 1 or 2')
  const quotaMaxima = {
    queries: intFlag('quota-queries', values['quota-queries']),
    execution_time: intFlag('quota-execution-time', values['quota-execution-time']),
    result_rows: intFlag('quota-result-rows', values['quota-result-rows']),
    read_rows: intFlag('quota-read-rows', values['quota-read-rows']),
  }
  const anyQuota = Object.values(quotaMaxima).some((v) => v !== undefined)
  if (values['quota-interval'] !== undefined && !anyQuota) throw new Error('--quota-interval needs at least one --quota-* maximum')
  const options: Omit<AnalystAccessInput, 'org'> = {
    ...(values.prefix !== undefined && { role_prefix: values.prefix }),
    ...(values.user !== undefined && { user: { name: values.user, password_sha256: values['password-sha256'] ?? '' } }),
    ...(readonly !== undefined && { readonly: readonly as 1 | 2 }),
    ...(values['max-execution-time'] !== undefined && { max_execution_time: intFlag('max-execution-time', values['max-execution-time']) }),
    ...(values['max-result-rows'] !== undefined && { max_result_rows: intFlag('max-result-rows', values['max-result-rows']) }),
    ...(anyQuota && {
      quota: {
        interval: QuotaInterval.parse(values['quota-interval'] ?? 'hour'),
        ...Object.fromEntries(Object.entries(quotaMaxima).filter(([, v]) => v !== undefined)),
      },
    }),
  }
  return { orgs, options, writer: values.writer, help: values.help ?? false }
}
