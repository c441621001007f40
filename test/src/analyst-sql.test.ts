import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MIGRATIONS } from '@atspark/warehouse'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * The generated analyst SQL on the real engine (chDB 3.4.0 = ClickHouse 26.7). chDB cannot run access
 * DDL (its only access storage is a read-only users file, every query runs as `default`), so each
 * generated statement is checked by the engine's parser, and the generated GRANT, USING condition and
 * profile are loaded into a users file whose `default` user is the analyst. Each engine run is its own
 * process: chDB reads its config once per process and binds one data directory at a time.
 */

const CLI = fileURLToPath(new URL('../../warehouse/dist/cli/analyst-sql.js', import.meta.url))
const DOC = fileURLToPath(new URL('../../docs/analysts.md', import.meta.url))
const CHDB = createRequire(import.meta.url).resolve('chdb')

const ORGS = ['org-a', 'org-b'] as const
type Org = (typeof ORGS)[number]
const SESSIONS: Record<Org, number> = { 'org-a': 12, 'org-b': 5 }
const GRANTED = ['rollup_dims_hourly', 'rollup_dims_daily', 'consent_log', 'events'] as const
const WITHHELD = ['anon_id', 'user_pid', 'ip_prefix', 'props'] as const
/** Small on purpose, so the test can hit them. */
const MAX_EXECUTION_TIME = 2
const MAX_RESULT_ROWS = 1000
const DAY_MS = 86_400_000
const FUNNEL = [
  ['pageview', '', '/pricing'],
  ['click', 'signup', '/pricing'],
  ['custom', 'trial_started', '/app'],
] as const

type Step = { sql: string; params?: Record<string, string>; format?: string }
type Outcome = { ok: true; text: string } | { ok: false; error: string }

const RUNNER = `const { Session } = require(${JSON.stringify(CHDB)})
const fs = require('node:fs')
const [dir, config, file] = process.argv.slice(2)
const steps = JSON.parse(fs.readFileSync(file, 'utf8'))
const session = new Session(dir, config ? { connectionArgs: ['--config-file=' + config] } : {})
const out = steps.map((s) => {
  try {
    const text = s.params ? session.queryBind(s.sql, s.params, s.format || 'JSONEachRow') : session.query(s.sql, s.format || 'JSONEachRow')
    return { ok: true, text: String(text) }
  } catch (e) {
    return { ok: false, error: String(e && e.message) }
  }
})
session.close()
process.stdout.write(JSON.stringify(out))
`

let work: string
let dataDir: string
let runner: string

/** Runs the steps in a fresh engine process on the shared data dir, as `default` of `config` (none: chDB's all-powerful default). */
function engine(steps: Step[], config = ''): Outcome[] {
  const file = join(work, `steps-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify(steps))
  const r = spawnSync(process.execPath, [runner, dataDir, config, file], { encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`engine run failed (${r.status}): ${r.stderr}`)
  return JSON.parse(r.stdout) as Outcome[]
}

function ok(o: Outcome | undefined): string {
  if (!o?.ok) throw new Error(`query failed: ${o && !o.ok ? o.error : 'no outcome'}`)
  return o.text
}

function json<T>(o: Outcome | undefined): T[] {
  return ok(o)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T)
}

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The script as operators pipe it: `--` comments, then one statement per line ending in `;`. */
function statementsOf(script: string): string[] {
  const lines = script.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'))
  for (const l of lines) expect(l.endsWith(';'), l).toBe(true)
  return lines.map((l) => l.slice(0, -1))
}

function unquote(identifier: string): string {
  return identifier.startsWith('`') ? identifier.slice(1, -1).replace(/\\(.)/g, '$1') : identifier
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

interface AnalystConfig {
  role: string
  filters: Map<string, string>
  xml: string
}

/** A users file whose `default` user is the analyst the generated statements describe; it fails on any statement it cannot map. */
function analystConfig(statements: string[], path: string): AnalystConfig {
  let role = ''
  let privileges = ''
  let profile: RegExpExecArray | null = null
  const permissive = new Map<string, string>()
  const restrictive = new Map<string, string>()
  for (const s of statements) {
    const roleM = /^CREATE ROLE IF NOT EXISTS (\S+)$/.exec(s)
    const grantM = /^GRANT (SELECT.+) TO (\S+) WITH REPLACE OPTION$/.exec(s)
    const policyM = /^CREATE ROW POLICY OR REPLACE \S+ ON atspark\.(\w+) AS (PERMISSIVE|RESTRICTIVE) FOR SELECT USING (.+) TO (\S+)$/.exec(s)
    const profileM =
      /^CREATE SETTINGS PROFILE OR REPLACE (\S+) SETTINGS readonly = (\d) CONST, max_execution_time = (\d+) MIN (\d+) MAX (\d+), max_result_rows = (\d+) MIN (\d+) MAX (\d+) TO (\S+)$/.exec(
        s,
      )
    if (roleM) role = unquote(roleM[1]!)
    else if (grantM) {
      expect(unquote(grantM[2]!)).toBe(role)
      privileges = grantM[1]!
    } else if (policyM) {
      expect(unquote(policyM[4]!)).toBe(role)
      ;(policyM[2] === 'PERMISSIVE' ? permissive : restrictive).set(policyM[1]!, policyM[3]!)
    } else if (profileM) {
      expect([profileM[1], profileM[9]].map((r) => unquote(r!))).toEqual([role, role])
      profile = profileM
    } else throw new Error(`unexpected statement: ${s}`)
  }
  if (!profile || !privileges || !role) throw new Error('role, profile or grant missing')
  // A users file can only express permissive filters; the restrictive policy must carry the same condition, so AND-ing it changes nothing.
  expect(restrictive).toEqual(permissive)
  const [, , readonly, met, metMin, metMax, mrr, mrrMin, mrrMax] = profile
  const filters = [...permissive].map(([t, f]) => `<${t}><filter>${xml(f)}</filter></${t}>`).join('')
  const text = `<clickhouse>
  <users>
    <default>
      <password></password>
      <networks><ip>::/0</ip></networks>
      <profile>analyst</profile>
      <quota>default</quota>
      <grants><query>GRANT ${xml(statements[0]!.slice('CREATE ROLE IF NOT EXISTS '.length))}</query></grants>
      <default_roles><${role}/></default_roles>
      <databases><atspark>${filters}</atspark></databases>
    </default>
  </users>
  <roles><${role}><grants><query>GRANT ${xml(privileges)}</query></grants></${role}></roles>
  <profiles>
    <default></default>
    <analyst>
      <readonly>${readonly}</readonly>
      <max_execution_time>${met}</max_execution_time>
      <max_result_rows>${mrr}</max_result_rows>
      <constraints>
        <readonly><const/></readonly>
        <max_execution_time><min>${metMin}</min><max>${metMax}</max></max_execution_time>
        <max_result_rows><min>${mrrMin}</min><max>${mrrMax}</max></max_result_rows>
      </constraints>
    </analyst>
  </profiles>
  <quotas><default></default></quotas>
  <user_directories><users_xml><path>${xml(path)}</path></users_xml></user_directories>
</clickhouse>
`
  writeFileSync(path, text)
  return { role, filters: permissive, xml: text }
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '')
}

/** Session s of an org goes 1 + s % 3 steps down the funnel; every org also has rows in the tables analysts must not read. */
function seedStatements(): string[] {
  const now = Date.now()
  const events: string[] = []
  for (const org of ORGS) {
    for (let s = 0; s < SESSIONS[org]; s++) {
      const start = now - (s % 3) * DAY_MS - 3_600_000
      for (let i = 0; i <= s % 3; i++) {
        const [type, name, path] = FUNNEL[i]!
        const t = time(start + i * 60_000)
        events.push(
          `(generateUUIDv4(), '${org}', 'web', '${type}', '${name}', '${t}', '${t}', 'anon-${org}-${s % 4}', 'sess-${org}-${s}', 'pid-${org}-${s % 2}', '${path}', 'example.com', '', map('plan', 'pro'), 'Firefox', '140', 'Linux', '', 'desktop', false, 1280, 800, 'en-US', 'UTC', 'DE', '203.0.113.0/24')`,
        )
      }
    }
  }
  const columns =
    'event_id, org_id, site_id, type, name, ts, received_at, anon_id, session_id, user_pid, url_path, url_host, referrer_host, props, browser, browser_version, os, os_version, device_type, is_bot, screen_w, screen_h, locale, tz, country, ip_prefix'
  const t = time(now - 3_600_000)
  const consent = (org: Org, analytics: boolean, source: string) => `(generateUUIDv4(), '${org}', 'web', ${analytics}, false, '${source}', '1', '${t}', '${t}')`
  return [
    `INSERT INTO atspark.events (${columns}) VALUES ${events.join(', ')}`,
    `INSERT INTO atspark.consent_log VALUES ${[
      consent('org-a', true, 'banner'),
      consent('org-a', true, 'banner'),
      consent('org-a', true, 'banner'),
      consent('org-a', false, 'gpc'),
      consent('org-a', false, 'banner'),
      consent('org-b', true, 'api'),
      consent('org-b', false, 'banner'),
    ].join(', ')}`,
    ...ORGS.flatMap((org) => [
      `INSERT INTO atspark.audit_log VALUES ('${t}', 'key-${org}', '${org}', 'privacy.erase', 'hash-${org}', 'ok', '{}')`,
      `INSERT INTO atspark.privacy_requests VALUES (generateUUIDv4(), '${org}', 'erase', 'user', 'hash-${org}', 'key-${org}', 'done', '${t}', NULL, '{}', 1)`,
      `INSERT INTO atspark.suppressions VALUES ('${org}', 'user', 'pid-${org}-0', true, '${t}', 1)`,
    ]),
  ]
}

/** The `-- example:` blocks of the analyst docs, by name. */
function docExamples(): Map<string, string> {
  const doc = readFileSync(DOC, 'utf8')
  const out = new Map<string, string>()
  for (const m of doc.matchAll(/```sql\n-- example: ([\w-]+)\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!.trim())
  return out
}

function expectedFunnel(org: Org): { viewed_pricing: number; clicked_signup: number; started_trial: number } {
  const levels = Array.from({ length: SESSIONS[org] }, (_, s) => 1 + (s % 3))
  const reached = (k: number) => levels.filter((l) => l >= k).length
  return { viewed_pricing: reached(1), clicked_signup: reached(2), started_trial: reached(3) }
}

const scripts = new Map<Org, string>()
const configs = new Map<Org, AnalystConfig>()
/** Per table and org, the row count the all-powerful default sees. */
const truth = new Map<string, number>()
let tables: string[] = []
let eventsColumns: string[] = []

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'atspark-analyst-sql-'))
  dataDir = join(work, 'data')
  runner = join(work, 'runner.cjs')
  writeFileSync(runner, RUNNER)
  const setup = engine([
    { sql: 'CREATE DATABASE IF NOT EXISTS atspark' },
    ...MIGRATIONS.flatMap((m) => m.statements.map((sql) => ({ sql }))),
    ...seedStatements().map((sql) => ({ sql })),
  ])
  for (const o of setup) ok(o)
  const facts = engine([
    { sql: "SELECT name FROM system.tables WHERE database = 'atspark' ORDER BY name" },
    { sql: "SELECT name FROM system.columns WHERE database = 'atspark' AND table = 'events'" },
    ...GRANTED.map((t) => ({ sql: `SELECT '${t}' AS t, org_id, count() AS n FROM atspark.${t} GROUP BY org_id` })),
  ])
  tables = json<{ name: string }>(facts[0]).map((r) => r.name)
  eventsColumns = json<{ name: string }>(facts[1]).map((r) => r.name)
  for (const o of facts.slice(2)) for (const r of json<{ t: string; org_id: string; n: number }>(o)) truth.set(`${r.t}/${r.org_id}`, r.n)
  for (const org of ORGS) {
    const r = cli(['--org', org, '--max-execution-time', String(MAX_EXECUTION_TIME), '--max-result-rows', String(MAX_RESULT_ROWS)])
    if (r.status !== 0) throw new Error(`analyst-sql --org ${org} failed: ${r.stderr}`)
    scripts.set(org, r.stdout)
    configs.set(org, analystConfig(statementsOf(r.stdout), join(work, `${org}.xml`)))
  }
}, 120_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('the generated SQL on the engine', () => {
  it('seeded every granted table for both orgs (so that seeing one org only means something)', () => {
    for (const t of GRANTED) for (const org of ORGS) expect(truth.get(`${t}/${org}`), `${t}/${org}`).toBeGreaterThan(0)
  })

  it('classifies every table and view the migrations created: granted with policies, or denied', () => {
    const granted = [...configs.get('org-a')!.filters.keys()].sort()
    expect(granted).toEqual([...GRANTED].sort())
    const denied = tables.filter((t) => !granted.includes(t))
    expect(denied.sort()).toEqual(['audit_log', 'privacy_requests', 'rollup_dims_daily_mv', 'rollup_dims_hourly_mv', 'shared_links', 'suppressions'])
  })

  it('grants every events column the schema has except the withheld ones', () => {
    const grant = statementsOf(scripts.get('org-a')!).find((s) => s.startsWith('GRANT SELECT'))!
    const granted = /SELECT\(([^)]*)\) ON atspark\.events/.exec(grant)![1]!.split(', ')
    expect([...granted, ...WITHHELD].sort()).toEqual([...eventsColumns].sort())
    for (const c of WITHHELD) expect(granted).not.toContain(c)
  })

  it('denies the views for a reason: a view granted on its own reads every org, its target policies do not apply', () => {
    const config = join(work, 'org-a-with-view.xml')
    const { xml: text } = analystConfig(statementsOf(scripts.get('org-a')!), config)
    writeFileSync(config, text.replace(' ON atspark.events</query>', ' ON atspark.events, SELECT ON atspark.rollup_dims_daily_mv</query>'))
    const [direct, viaView] = engine(
      ['SELECT DISTINCT org_id FROM atspark.rollup_dims_daily ORDER BY org_id', 'SELECT DISTINCT org_id FROM atspark.rollup_dims_daily_mv ORDER BY org_id'].map((sql) => ({ sql })),
      config,
    )
    expect(json(direct)).toEqual([{ org_id: 'org-a' }])
    expect(json(viaView)).toEqual([{ org_id: 'org-a' }, { org_id: 'org-b' }])
  })

  it("parses every statement, with a login, a quota and the writer's policies, as its own canonical form", () => {
    const hash = 'ab'.repeat(32)
    const full = cli(['--org', 'org-a', '--user', 'org-a-bi', '--password-sha256', hash, '--quota-queries', '100', '--quota-read-rows', '1000000', '--writer', 'default'])
    expect(full.status, full.stderr).toBe(0)
    const all = [...statementsOf(full.stdout), ...statementsOf(scripts.get('org-b')!)]
    expect(all.some((s) => s.startsWith('CREATE USER'))).toBe(true)
    expect(all.some((s) => s.startsWith('CREATE QUOTA'))).toBe(true)
    expect(all.some((s) => s.includes('atspark_pipeline'))).toBe(true)
    // A broken statement must fail, or passing would prove nothing.
    const broken = 'CREATE ROW POLICY OR REPLACE p ON atspark.events AS PERMISSIVE FOR SELECT USING TO r'
    const out = engine([...all, broken].map((q) => ({ sql: 'SELECT formatQuery({q:String}) AS f', params: { q }, format: 'JSONEachRow' })))
    for (const [i, s] of all.entries()) expect(json<{ f: string }>(out[i])[0]?.f).toBe(s)
    expect(out.at(-1)?.ok).toBe(false)
  })

  for (const org of ORGS) {
    const other = ORGS.find((o) => o !== org)!

    describe(`as ${org}'s analyst`, () => {
      let r: Outcome[]
      const steps: Step[] = []
      const at = new Map<string, number>()
      const step = (key: string, sql: string) => {
        at.set(key, steps.length)
        steps.push({ sql })
      }
      const get = (key: string) => r[at.get(key)!]

      beforeAll(() => {
        step('whoami', "SELECT currentRoles() AS roles, getSetting('readonly') AS readonly")
        for (const t of GRANTED) {
          step(`count ${t}`, `SELECT org_id, count() AS n FROM atspark.${t} GROUP BY org_id`)
          step(`other ${t}`, `SELECT count() AS n FROM atspark.${t} WHERE org_id = '${other}'`)
        }
        step('star', 'SELECT * FROM atspark.events')
        step('star except', `SELECT * EXCEPT (${WITHHELD.join(', ')}) FROM atspark.events`)
        for (const c of WITHHELD) step(`withheld ${c}`, `SELECT ${c} FROM atspark.events`)
        for (const t of tables.filter((x) => !(GRANTED as readonly string[]).includes(x))) step(`denied ${t}`, `SELECT count() FROM atspark.${t}`)
        step('insert', `INSERT INTO atspark.events (event_id, org_id) VALUES (generateUUIDv4(), '${org}')`)
        step('insert other', `INSERT INTO atspark.consent_log (receipt_id, org_id) VALUES (generateUUIDv4(), '${other}')`)
        step('alter delete', 'ALTER TABLE atspark.events DELETE WHERE 1')
        step('alter update', "ALTER TABLE atspark.events UPDATE name = 'x' WHERE 1")
        step('delete', 'DELETE FROM atspark.events WHERE 1')
        step('drop', 'DROP TABLE atspark.consent_log')
        step('truncate', 'TRUNCATE TABLE atspark.rollup_dims_daily')
        step('create', 'CREATE TABLE atspark.copy ENGINE = Memory AS SELECT * FROM atspark.rollup_dims_daily')
        step('optimize', 'OPTIMIZE TABLE atspark.events FINAL')
        step('file', "SELECT * FROM file('/etc/hostname', 'LineAsString')")
        step('set readonly', 'SET readonly = 0')
        step('set time', 'SET max_execution_time = 0')
        step('set rows', 'SET max_result_rows = 0')
        step('settings clause', `SELECT count() FROM atspark.events SETTINGS max_result_rows = 0`)
        step('too many rows', `SELECT number FROM numbers(${MAX_RESULT_ROWS + 1})`)
        step('too long', 'SELECT sleepEachRow(0.9) FROM numbers(3)')
        for (const [name, sql] of docExamples()) step(`example ${name}`, sql)
        r = engine(steps, join(work, `${org}.xml`))
      }, 120_000)

      it('runs as the role, read-only', () => {
        expect(json(get('whoami'))).toEqual([{ roles: [configs.get(org)!.role], readonly: 1 }])
      })

      it("sees exactly its org's rows in every granted table, and none of the other org's", () => {
        for (const t of GRANTED) {
          expect(json(get(`count ${t}`)), t).toEqual([{ org_id: org, n: truth.get(`${t}/${org}`) }])
          expect(json(get(`other ${t}`)), t).toEqual([{ n: 0 }])
        }
      })

      it('reads the granted events columns but not the withheld ones, nor SELECT *', () => {
        expect(get('star')).toMatchObject({ ok: false, error: expect.stringContaining('ACCESS_DENIED') })
        const rows = json<{ org_id: string; session_id: string }>(get('star except'))
        expect(rows).toHaveLength(truth.get(`events/${org}`)!)
        expect(new Set(rows.map((x) => x.org_id))).toEqual(new Set([org]))
        for (const c of WITHHELD) expect(get(`withheld ${c}`), c).toMatchObject({ ok: false, error: expect.stringContaining('ACCESS_DENIED') })
      })

      it('cannot read audit_log, privacy_requests, suppressions, shared_links or the views', () => {
        for (const t of ['audit_log', 'privacy_requests', 'suppressions', 'shared_links', 'rollup_dims_hourly_mv', 'rollup_dims_daily_mv']) {
          expect(get(`denied ${t}`), t).toMatchObject({ ok: false, error: expect.stringContaining('ACCESS_DENIED') })
        }
      })

      it('cannot write, alter, delete, drop, create or read files', () => {
        for (const k of ['insert', 'insert other', 'alter delete', 'alter update', 'delete', 'drop', 'truncate', 'create', 'optimize', 'file']) {
          expect(get(k), k).toMatchObject({ ok: false, error: expect.stringMatching(/ACCESS_DENIED|READONLY/) })
        }
      })

      it('cannot lift readonly or its limits, and the limits fire', () => {
        for (const k of ['set readonly', 'set time', 'set rows', 'settings clause']) {
          expect(get(k), k).toMatchObject({ ok: false, error: expect.stringMatching(/READONLY|SETTING_CONSTRAINT_VIOLATION/) })
        }
        expect(get('too many rows')).toMatchObject({ ok: false, error: expect.stringContaining('TOO_MANY_ROWS_OR_BYTES') })
        expect(get('too long')).toMatchObject({ ok: false, error: expect.stringContaining('TIMEOUT_EXCEEDED') })
      })

      it("runs every example of the docs, on its org's data only", () => {
        expect([...docExamples().keys()].sort()).toEqual(['consent-rate', 'funnel', 'top-pages', 'visitors-per-day'])
        const days = json<{ visitors: number; pageviews: number; all_events: number }>(get('example visitors-per-day'))
        expect(days.length).toBeGreaterThan(0)
        expect(days.reduce((n, d) => n + d.all_events, 0)).toBe(truth.get(`events/${org}`))
        expect(days.reduce((n, d) => n + d.pageviews, 0)).toBe(SESSIONS[org])
        expect(json(get('example top-pages'))).toEqual([{ url_path: '/pricing', visitors: Math.min(4, SESSIONS[org]), pageviews: SESSIONS[org] }])
        const consent = json<{ source: string; grants: number; refusals: number }>(get('example consent-rate'))
        expect(consent.map(({ source, grants, refusals }) => ({ source, grants, refusals }))).toEqual(
          org === 'org-a'
            ? [
                { source: 'banner', grants: 3, refusals: 1 },
                { source: 'gpc', grants: 0, refusals: 1 },
              ]
            : [
                { source: 'api', grants: 1, refusals: 0 },
                { source: 'banner', grants: 0, refusals: 1 },
              ],
        )
        expect(json(get('example funnel'))).toEqual([expectedFunnel(org)])
      })
    })
  }

  it('with --readonly 2, lets settings move within the limits only, and still reads one org and writes nothing', () => {
    const r = cli(['--org', 'org-b', '--readonly', '2', '--max-execution-time', String(MAX_EXECUTION_TIME), '--max-result-rows', String(MAX_RESULT_ROWS)])
    expect(r.status, r.stderr).toBe(0)
    const config = join(work, 'org-b-readonly2.xml')
    analystConfig(statementsOf(r.stdout), config)
    const out = engine(
      [
        "SELECT getSetting('readonly') AS readonly",
        'SET max_result_rows = 10',
        `SET max_execution_time = ${MAX_EXECUTION_TIME + 1}`,
        'SET max_execution_time = 0',
        `SET max_result_rows = ${MAX_RESULT_ROWS + 1}`,
        'SET max_result_rows = 0',
        'SET readonly = 0',
        'SELECT org_id, count() AS n FROM atspark.events GROUP BY org_id SETTINGS max_threads = 1',
        "INSERT INTO atspark.events (event_id, org_id) VALUES (generateUUIDv4(), 'org-b')",
        'SELECT number FROM numbers(11)',
      ].map((sql) => ({ sql })),
      config,
    )
    expect(json(out[0])).toEqual([{ readonly: 2 }])
    expect(out[1]?.ok).toBe(true)
    for (const o of out.slice(2, 6)) expect(o).toMatchObject({ ok: false, error: expect.stringContaining('SETTING_CONSTRAINT_VIOLATION') })
    expect(out[6]).toMatchObject({ ok: false, error: expect.stringMatching(/READONLY|SETTING_CONSTRAINT_VIOLATION/) })
    expect(json(out[7])).toEqual([{ org_id: 'org-b', n: truth.get('events/org-b') }])
    expect(out[8]).toMatchObject({ ok: false, error: expect.stringMatching(/ACCESS_DENIED|READONLY/) })
    // The lowered limit holds for the rest of the session.
    expect(out[9]).toMatchObject({ ok: false, error: expect.stringContaining('TOO_MANY_ROWS_OR_BYTES') })
  })

  it('left every table as it was: nothing the analysts tried changed a row', () => {
    const after = engine(GRANTED.map((t) => ({ sql: `SELECT '${t}' AS t, org_id, count() AS n FROM atspark.${t} GROUP BY org_id` })))
    for (const o of after) for (const row of json<{ t: string; org_id: string; n: number }>(o)) expect(row.n).toBe(truth.get(`${row.t}/${row.org_id}`))
  })
})

describe('the analyst-sql CLI', () => {
  const tenants = () => {
    const file = join(work, 'tenants.json')
    const org = (id: string) => ({
      id,
      name: id,
      sites: [{ id: 'web', write_key: `pk_${id.replace('-', '_')}_web`, allowed_origins: [`https://${id}.example`], consent_mode: 'opt-in' }],
    })
    writeFileSync(file, JSON.stringify({ orgs: [org('org-a'), org('org-b')] }))
    return file
  }

  it('prints every org of ATSPARK_TENANTS_FILE when no --org is given', () => {
    const r = cli([], { ATSPARK_TENANTS_FILE: tenants() })
    expect(r.status, r.stderr).toBe(0)
    const roles = statementsOf(r.stdout).filter((s) => s.startsWith('CREATE ROLE'))
    expect(roles).toEqual(['CREATE ROLE IF NOT EXISTS `atspark_analyst_org-a`', 'CREATE ROLE IF NOT EXISTS `atspark_analyst_org-b`'])
  })

  it('refuses an org the tenants file does not know, a malformed org, and a login without its hash', () => {
    const unknown = cli(['--org', 'org-c'], { ATSPARK_TENANTS_FILE: tenants() })
    expect(unknown.status).toBe(2)
    expect(unknown.stderr).toContain('org-c')
    expect(unknown.stdout).toBe('')
    expect(cli(['--org', "x' OR 1 --"]).status).toBe(2)
    expect(cli(['--org', 'org-a', '--user', 'bi']).status).toBe(2)
    expect(cli([]).status).toBe(2)
  })
})
