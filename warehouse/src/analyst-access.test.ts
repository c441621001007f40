import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import {
  ANALYST_DENIED_TABLES,
  ANALYST_TABLES,
  analystAccess,
  EVENTS_GRANTED_COLUMNS,
  EVENTS_WITHHELD_COLUMNS,
  parseAnalystSqlArgs,
  pipelinePolicyStatements,
  quoteIdentifier,
  quoteString,
  toScript,
} from './analyst-access.js'
import { MIGRATIONS } from './migrations.js'

const HASH = 'a'.repeat(64)
const POLICY = /^CREATE ROW POLICY OR REPLACE (\S+) ON atspark\.(\w+) AS (PERMISSIVE|RESTRICTIVE) FOR SELECT USING (.+) TO (\S+)$/
const GRANT = /^GRANT (.+) TO (\S+) WITH REPLACE OPTION$/

/** `SELECT ON db.t` / `SELECT(a, b) ON db.t` elements of a GRANT, by table. */
function grantedTables(grant: string): Map<string, string[] | null> {
  const body = GRANT.exec(grant)?.[1]
  if (!body) throw new Error(`not a replacing GRANT: ${grant}`)
  const out = new Map<string, string[] | null>()
  for (const m of body.matchAll(/(\w+)(?:\(([^)]*)\))? ON (\w+)\.(\w+)/g)) {
    expect(m[1]).toBe('SELECT')
    expect(m[3]).toBe(DB)
    out.set(m[4]!, m[2] ? m[2].split(', ') : null)
  }
  return out
}

function policies(statements: string[]): { name: string; table: string; kind: string; using: string; to: string }[] {
  return statements.flatMap((s) => {
    const m = POLICY.exec(s)
    return m ? [{ name: m[1]!, table: m[2]!, kind: m[3]!, using: m[4]!, to: m[5]! }] : []
  })
}

/** Tables and views the migrations leave (created and not dropped by a later one), and the columns of `events` as migration 1 defines them plus those later ones add. */
function migrationObjects(): { objects: string[]; eventsColumns: string[] } {
  const all = MIGRATIONS.flatMap((m) => m.statements)
  const live = new Set<string>()
  for (const s of all) {
    for (const m of s.matchAll(/CREATE (?:TABLE|MATERIALIZED VIEW) IF NOT EXISTS atspark\.(\w+)/g)) live.add(m[1]!)
    for (const m of s.matchAll(/DROP (?:TABLE|VIEW) IF EXISTS atspark\.(\w+)/g)) live.delete(m[1]!)
  }
  const objects = [...live]
  const events = all.find((s) => s.includes(`CREATE TABLE IF NOT EXISTS ${DB}.events`))!
  const body = events.slice(events.indexOf('(') + 1, events.indexOf('\n)'))
  const eventsColumns = body
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => l.split(' ')[0]!)
  for (const s of all.filter((x) => x.startsWith(`ALTER TABLE ${DB}.events`))) {
    for (const m of s.matchAll(/ADD COLUMN IF NOT EXISTS (\w+)/g)) eventsColumns.push(m[1]!)
  }
  return { objects, eventsColumns }
}

describe('analystAccess', () => {
  const acme = analystAccess({ org: 'acme' })

  it('creates the role, its profile, both policies on every granted table, then the grant, in that order', () => {
    const s = acme.statements
    expect(acme.role).toBe('atspark_analyst_acme')
    expect(s[0]).toBe('CREATE ROLE IF NOT EXISTS atspark_analyst_acme')
    expect(s[1]).toMatch(/^CREATE SETTINGS PROFILE OR REPLACE atspark_analyst_acme SETTINGS /)
    const grantAt = s.findIndex((x) => x.startsWith('GRANT SELECT'))
    expect(grantAt).toBe(s.length - 1)
    // Every policy precedes the grant: no moment of a run where a granted table has no policy yet.
    expect(s.slice(2, grantAt).every((x) => POLICY.test(x))).toBe(true)
    expect(s).toHaveLength(2 + 2 * Object.keys(ANALYST_TABLES).length + 1)
  })

  it('puts a permissive and a restrictive org_id policy on exactly the granted tables, to the role only', () => {
    const granted = grantedTables(acme.statements.at(-1)!)
    const ps = policies(acme.statements)
    expect([...granted.keys()].sort()).toEqual(Object.keys(ANALYST_TABLES).sort())
    for (const table of granted.keys()) {
      const mine = ps.filter((p) => p.table === table)
      expect(mine.map((p) => p.kind).sort()).toEqual(['PERMISSIVE', 'RESTRICTIVE'])
      for (const p of mine) {
        expect(p.using).toBe("org_id = 'acme'")
        expect(p.to).toBe('atspark_analyst_acme')
      }
      expect(mine.map((p) => p.name).sort()).toEqual(['atspark_analyst_acme_allow', 'atspark_analyst_acme_limit'])
    }
    expect(ps.every((p) => granted.has(p.table))).toBe(true)
    expect(acme.filter).toBe("org_id = 'acme'")
  })

  it('grants SELECT only, never a denied table, and no withheld events column', () => {
    const grant = acme.statements.at(-1)!
    const granted = grantedTables(grant)
    for (const denied of Object.keys(ANALYST_DENIED_TABLES)) expect(granted.has(denied)).toBe(false)
    expect(granted.get('events')).toEqual([...EVENTS_GRANTED_COLUMNS])
    for (const col of Object.keys(EVENTS_WITHHELD_COLUMNS)) expect(granted.get('events')).not.toContain(col)
    for (const table of ['rollup_dims_hourly', 'rollup_dims_daily', 'consent_log']) expect(granted.get(table)).toBeNull()
    expect(grant).not.toMatch(/\b(INSERT|ALTER|DELETE|DROP|CREATE|TRUNCATE|ALL)\b/)
    expect(grant).not.toMatch(/ON atspark\.\*/)
  })

  it('classifies every table, view and events column the migrations create', () => {
    const { objects, eventsColumns } = migrationObjects()
    const classified = new Set([...Object.keys(ANALYST_TABLES), ...Object.keys(ANALYST_DENIED_TABLES)])
    for (const o of objects) expect(classified, `atspark.${o} is neither granted nor denied`).toContain(o)
    expect([...eventsColumns].sort()).toEqual([...EVENTS_GRANTED_COLUMNS, ...Object.keys(EVENTS_WITHHELD_COLUMNS)].sort())
    for (const must of ['audit_log', 'privacy_requests', 'suppressions']) expect(ANALYST_DENIED_TABLES).toHaveProperty(must)
    // Dropped by migration 8: neither granted nor left in the lists.
    for (const gone of ['rollup_hourly', 'rollup_daily', 'rollup_hourly_mv', 'rollup_daily_mv']) {
      expect(objects).not.toContain(gone)
      expect(classified).not.toContain(gone)
    }
    // Every classified name is something the migrations leave: no grant or policy on a table that is not there.
    for (const name of classified) if (name !== 'schema_migrations') expect(objects, name).toContain(name)
  })

  it('gives every org its own role, policy names and filter', () => {
    const b = analystAccess({ org: 'org-b' })
    expect(b.role).toBe('atspark_analyst_org-b')
    expect(b.statements[0]).toBe('CREATE ROLE IF NOT EXISTS `atspark_analyst_org-b`')
    const namesA = new Set(policies(acme.statements).map((p) => `${p.name} ${p.table}`))
    for (const p of policies(b.statements)) {
      expect(namesA.has(`${p.name} ${p.table}`)).toBe(false)
      expect(p.using).toBe("org_id = 'org-b'")
      expect(p.to).toBe('`atspark_analyst_org-b`')
    }
  })

  it('limits the role: readonly as a constant, limits that can be lowered but never lifted or zeroed', () => {
    expect(acme.statements[1]).toBe(
      'CREATE SETTINGS PROFILE OR REPLACE atspark_analyst_acme SETTINGS readonly = 1 CONST, max_execution_time = 60 MIN 1 MAX 60, max_result_rows = 100000 MIN 1 MAX 100000 TO atspark_analyst_acme',
    )
    const custom = analystAccess({ org: 'acme', readonly: 2, max_execution_time: 5, max_result_rows: 10 })
    expect(custom.statements[1]).toContain('readonly = 2 CONST, max_execution_time = 5 MIN 1 MAX 5, max_result_rows = 10 MIN 1 MAX 10 TO')
  })

  it('adds a quota shared by the role when asked, before the grant', () => {
    const q = analystAccess({ org: 'acme', quota: { interval: 'day', queries: 500, read_rows: 1_000_000 } })
    expect(q.statements[2]).toBe(
      'CREATE QUOTA OR REPLACE atspark_analyst_acme NOT KEYED FOR INTERVAL 1 day MAX queries = 500, read_rows = 1000000 TO atspark_analyst_acme',
    )
    expect(acme.statements.some((s) => s.startsWith('CREATE QUOTA'))).toBe(false)
  })

  it('creates the login last, with only the password hash, and converges an existing one', () => {
    const u = analystAccess({ org: 'acme', user: { name: 'acme-bi', password_sha256: HASH } })
    expect(u.statements.slice(-3)).toEqual([
      `CREATE USER IF NOT EXISTS \`acme-bi\` IDENTIFIED WITH sha256_hash BY '${HASH}' DEFAULT ROLE atspark_analyst_acme`,
      'GRANT atspark_analyst_acme TO `acme-bi`',
      `ALTER USER \`acme-bi\` IDENTIFIED WITH sha256_hash BY '${HASH}' DEFAULT ROLE atspark_analyst_acme`,
    ])
    expect(u.statements.at(-4)).toMatch(/^GRANT SELECT/)
  })

  it('takes a custom role prefix', () => {
    const p = analystAccess({ org: 'acme', role_prefix: 'bi' })
    expect(p.role).toBe('bi_acme')
    expect(policies(p.statements).every((x) => x.to === 'bi_acme' && x.name.startsWith('bi_acme_'))).toBe(true)
  })

  it.each([
    ['an upper-case org', { org: 'Acme' }],
    ['a quote in the org', { org: "a'b" }],
    ['a space in the org', { org: 'a b' }],
    ['an empty org', { org: '' }],
    ['a role prefix with a dash', { org: 'acme', role_prefix: 'bi-x' }],
    ['a user name with @', { org: 'acme', user: { name: 'a@b', password_sha256: HASH } }],
    ['a password that is not a sha256', { org: 'acme', user: { name: 'bi', password_sha256: 'secret' } }],
    ['readonly 0', { org: 'acme', readonly: 0 }],
    ['an unlimited execution time', { org: 'acme', max_execution_time: 0 }],
    ['an unlimited result', { org: 'acme', max_result_rows: 0 }],
    ['a quota without a maximum', { org: 'acme', quota: { interval: 'hour' } }],
    ['an unknown option', { org: 'acme', grant_all: true }],
  ])('rejects %s', (_label, input) => {
    expect(() => analystAccess(input as never)).toThrow()
  })
})

describe('quoting', () => {
  it('escapes quotes and backslashes in string literals', () => {
    expect(quoteString("o'r\\g")).toBe("'o\\'r\\\\g'")
    expect(quoteString('acme')).toBe("'acme'")
  })

  it('backquotes identifiers only when they are not plain, escaping backquotes', () => {
    expect(quoteIdentifier('atspark_analyst_acme')).toBe('atspark_analyst_acme')
    expect(quoteIdentifier('atspark_analyst_org-a')).toBe('`atspark_analyst_org-a`')
    expect(quoteIdentifier('a`b\\c')).toBe('`a\\`b\\\\c`')
    expect(quoteIdentifier('9lives')).toBe('`9lives`')
  })
})

describe('pipelinePolicyStatements', () => {
  it('lets the writer read every row of exactly the tables analysts have policies on', () => {
    const s = pipelinePolicyStatements('default')
    expect(s).toEqual(
      Object.keys(ANALYST_TABLES).map((t) => `CREATE ROW POLICY OR REPLACE atspark_pipeline ON atspark.${t} AS PERMISSIVE FOR SELECT USING 1 TO default`),
    )
    expect(() => pipelinePolicyStatements('a b')).toThrow()
  })
})

describe('toScript', () => {
  it('ends each statement with ; on its own line, after the header comments', () => {
    expect(toScript(['hi'], ['SELECT 1', 'SELECT 2'])).toBe('-- hi\nSELECT 1;\nSELECT 2;\n')
  })
})

describe('parseAnalystSqlArgs', () => {
  it('reads orgs, names, limits and a quota', () => {
    const a = parseAnalystSqlArgs([
      '--org',
      'acme',
      '--user',
      'bi',
      '--password-sha256',
      HASH,
      '--prefix',
      'bi',
      '--readonly',
      '2',
      '--max-execution-time',
      '5',
      '--max-result-rows',
      '7',
      '--quota-interval',
      'day',
      '--quota-queries',
      '9',
      '--writer',
      'ingest',
    ])
    expect(a).toEqual({
      orgs: ['acme'],
      writer: 'ingest',
      help: false,
      options: {
        role_prefix: 'bi',
        user: { name: 'bi', password_sha256: HASH },
        readonly: 2,
        max_execution_time: 5,
        max_result_rows: 7,
        quota: { interval: 'day', queries: 9 },
      },
    })
    expect(analystAccess({ ...a.options, org: 'acme' }).statements).toHaveLength(1 + 1 + 1 + 8 + 1 + 3)
  })

  it('takes no orgs to mean every org of the tenants file, and several --org', () => {
    expect(parseAnalystSqlArgs([]).orgs).toEqual([])
    expect(parseAnalystSqlArgs(['--org', 'a', '--org', 'b']).orgs).toEqual(['a', 'b'])
  })

  it.each([
    [['--user', 'bi', '--org', 'a']],
    [['--password-sha256', HASH, '--org', 'a']],
    [['--user', 'bi', '--password-sha256', HASH]],
    [['--user', 'bi', '--password-sha256', HASH, '--org', 'a', '--org', 'b']],
    [['--readonly', '0']],
    [['--max-result-rows', '1e3']],
    [['--quota-interval', 'hour']],
    [['--quota-queries', '5', '--quota-interval', 'fortnight']],
    [['--grant-all']],
    [['acme']],
  ])('rejects %j', (argv) => {
    expect(() => parseAnalystSqlArgs(argv)).toThrow()
  })
})
