import { TenantDirectory } from '@atspark/runtime'
import { z } from 'zod'
import { parseWarehouseEnv } from '../env.js'
import { ANALYST_SQL_USAGE, type AnalystSqlArgs, analystAccess, parseAnalystSqlArgs, pipelinePolicyStatements, toScript } from '../analyst-access.js'

// `node warehouse/dist/cli/analyst-sql.js --org acme | clickhouse-client --multiquery` (or `npm run -s analyst-sql -- …`):
// prints, never runs, the SQL that gives an org's analysts a read-only role limited to their org's rows.

function fail(message: string): never {
  console.error(message)
  process.exit(2)
}

function describe(err: unknown): string {
  return err instanceof z.ZodError ? z.prettifyError(err) : err instanceof Error ? err.message : String(err)
}

let args: AnalystSqlArgs
try {
  args = parseAnalystSqlArgs(process.argv.slice(2))
} catch (err) {
  fail(`${describe(err)}\n${ANALYST_SQL_USAGE}`)
}
if (args.help) {
  console.log(ANALYST_SQL_USAGE)
  process.exit(0)
}

const env = parseWarehouseEnv()
const file = env.ATSPARK_TENANTS_FILE
let orgs = args.orgs
if (file) {
  // With a tenants file, an org it does not know is a typo, not a new tenant.
  const directory = await TenantDirectory.load(file).catch((err: unknown) => fail(describe(err)))
  const known = directory.orgs.map((o) => o.id)
  const unknown = orgs.filter((o) => !known.includes(o))
  if (unknown.length > 0) fail(`not in ${file}: ${unknown.join(', ')}`)
  if (orgs.length === 0) orgs = known
} else if (orgs.length === 0) {
  fail(`give --org ID, or set ATSPARK_TENANTS_FILE for every org\n${ANALYST_SQL_USAGE}`)
}

const parts: string[] = []
try {
  if (args.writer !== undefined) {
    parts.push(toScript([`the pipeline's user ${args.writer} reads every row of the tables analysts read`], pipelinePolicyStatements(args.writer)))
  }
  for (const org of [...new Set(orgs)]) {
    const access = analystAccess({ ...args.options, org })
    parts.push(toScript([`org ${org}: role ${access.role}, rows where ${access.filter}`], access.statements))
  }
} catch (err) {
  fail(describe(err))
}
process.stdout.write(parts.join('\n'))
