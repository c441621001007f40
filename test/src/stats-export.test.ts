import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WireEvent } from '@atspark/schemas'
import { strFromU8, unzipSync } from 'fflate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, HEADLESS_UA, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'

// format=csv and the whole-dashboard export end to end on the built embedded pipeline: every CSV must hold
// exactly the cells of the JSON answer (hidden values empty, formulas defused), and the zip exactly the
// per-endpoint CSVs, for the key's org only (org B has a site with the same id) and under the same k = 5.

const ORIGIN = 'http://localhost:3995'
const K = 5
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const KEYS = { a: newKey(), b: newKey() }
const WRITE = { a: 'pk_export_a', b: 'pk_export_b' }

const tenants = {
  orgs: (['a', 'b'] as const).map((o) => ({
    id: `org-${o}`,
    name: o,
    api_keys: [{ id: `${o}-analyst`, hash: sha256(KEYS[o]), role: 'analyst' }],
    sites: [{ id: 'web', write_key: WRITE[o], allowed_origins: [ORIGIN], consent_mode: 'opt-out', goals: [{ name: 'Signup', event: 'signup' }] }],
  })),
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const D1 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const RANGE = `from=${day(D1)}&to=${day(D1 + DAY)}`
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from)

/** Names a spreadsheet would run as formulas, sent by at least k visitors (shown) and by k − 1 (never named). */
const FORMULA = '=HYPERLINK("http://evil.example","click")'
const AT_FORMULA = '@SUM(1+1)'
const HIDDEN_FORMULA = '-2+3'

const pv = (v: string, path: string, minute = 0): WireEvent => event({ a: `anon_${v}`, s: `sess_${v}`, u: `https://app.example.com${path}`, ts: D1 + 10 * HOUR + minute * 60_000 })
const custom = (v: string, name: string): WireEvent => event({ t: 'custom', n: name, a: `anon_${v}`, s: `sess_${v}`, u: 'https://app.example.com/home', ts: D1 + 10 * HOUR + 5 * 60_000 })

// Org A: 12 visitors on /home, v0–v5 then /pricing, v6–v9 (k − 1) then /few; custom events as named above; v0–v4 sign up.
const orgA: WireEvent[] = [
  ...range(12).map((i) => pv(`v${i}`, '/home')),
  ...range(6).map((i) => pv(`v${i}`, '/pricing', 1)),
  ...range(4, 6).map((i) => pv(`v${i}`, '/few', 1)),
  ...range(6).map((i) => custom(`v${i}`, FORMULA)),
  ...range(5).map((i) => custom(`v${i}`, AT_FORMULA)),
  ...range(4, 6).map((i) => custom(`v${i}`, HIDDEN_FORMULA)),
  ...range(5).map((i) => custom(`v${i}`, 'signup')),
]
const bots: WireEvent[] = range(3).map((i) => pv(`bot${i}`, '/home'))
const orgB: WireEvent[] = range(7).map((i) => pv(`b${i}`, '/b-only'))

let pipeline: RunningPipeline

async function send(writeKey: string, events: WireEvent[], headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < events.length; i += 50) {
    const res = await post(pipeline.ingest, batch(events.slice(i, i + 50), { k: writeKey }), { origin: ORIGIN, headers })
    expect(res.status).toBe(202)
  }
}

const stats = (key: string, path: string) => fetch(`${pipeline.backoffice}/v1/stats/${path}`, { headers: { authorization: `Bearer ${key}` } })

async function json(path: string, key = KEYS.a): Promise<Record<string, unknown>> {
  const res = await stats(key, path)
  expect(res.status, await res.clone().text()).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

async function csv(path: string, key = KEYS.a): Promise<string> {
  const res = await stats(key, `${path}&format=csv`)
  expect(res.status, await res.clone().text()).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
  return res.text()
}

/** RFC 4180, as a spreadsheet reads it: quoted fields may hold commas, quotes ("") and line breaks; records end in CRLF. */
function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let field = ''
  let record: string[] = []
  let quoted = false
  const endField = () => {
    record.push(field)
    field = ''
  }
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"'
      i++
    } else if (ch === '"') quoted = !quoted
    else if (quoted) field += ch
    else if (ch === ',') endField()
    else if (ch === '\r' && text[i + 1] === '\n') {
      endField()
      records.push(record)
      record = []
      i++
    } else field += ch
  }
  expect(field === '' && record.length === 0, 'the last record ends with CRLF').toBe(true)
  return records
}

/** A JSON value as its CSV cell: empty for null, text that starts like a formula behind an apostrophe. */
const cellOf = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'string' ? (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v) : String(v))

/** The JSON answer's rows, as the contract lays each endpoint out (breakdown's other as "(other)", a row per metric). */
function jsonRows(endpoint: string, body: Record<string, unknown>): Record<string, unknown>[] {
  if (endpoint === 'breakdown') {
    const other = body.other as Record<string, unknown> | null
    return [...(body.rows as Record<string, unknown>[]), ...(other ? [{ value: '(other)', ...other }] : [])]
  }
  if (endpoint === 'aggregate') return Object.entries(body.metrics as Record<string, object>).map(([metric, m]) => ({ metric, ...m, hidden: body.hidden }))
  if (endpoint === 'timeseries') return body.buckets as Record<string, unknown>[]
  throw new Error(endpoint)
}

/** The CSV holds the JSON answer cell for cell: one row per JSON row, every column a field of it. */
async function expectCsvEqualsJson(path: string): Promise<string[][]> {
  const endpoint = path.slice(0, path.indexOf('?'))
  const [body, text] = [await json(path), await csv(path)]
  const [header, ...records] = parseCsv(text)
  const rows = jsonRows(endpoint, body)
  expect(records, path).toHaveLength(rows.length)
  for (const [i, row] of rows.entries()) {
    expect(Object.keys(row).filter((k) => row[k] !== undefined).sort(), path).toEqual([...(header ?? [])].sort())
    expect(records[i], path).toEqual((header ?? []).map((col) => cellOf(row[col])))
  }
  return [header ?? [], ...records]
}

/** The panels of the export, as the contract names them, each with the request that answers it on its own. */
const PANELS: Record<string, string> = {
  'aggregate.csv': 'aggregate?compare=previous_period',
  'timeseries.csv': 'timeseries?interval=day',
  'pages.csv': 'breakdown?dimension=url_path&type=pageview&limit=100',
  'entry_pages.csv': 'breakdown?dimension=entry_page&limit=100',
  'exit_pages.csv': 'breakdown?dimension=exit_page&limit=100',
  'referrers.csv': 'breakdown?dimension=referrer_host&limit=100',
  'channels.csv': 'breakdown?dimension=channel&limit=100',
  'utm_source.csv': 'breakdown?dimension=utm_source&limit=100',
  'utm_medium.csv': 'breakdown?dimension=utm_medium&limit=100',
  'utm_campaign.csv': 'breakdown?dimension=utm_campaign&limit=100',
  'countries.csv': 'breakdown?dimension=country&limit=100',
  'browsers.csv': 'breakdown?dimension=browser&limit=100',
  'os.csv': 'breakdown?dimension=os&limit=100',
  'devices.csv': 'breakdown?dimension=device_type&limit=100',
  'events_custom.csv': 'breakdown?dimension=name&type=custom&limit=100',
  'events_click.csv': 'breakdown?dimension=name&type=click&limit=100',
  'events_feature.csv': 'breakdown?dimension=name&type=feature&limit=100',
  'events_query.csv': 'breakdown?dimension=name&type=query&limit=100',
  'goals.csv': 'breakdown?dimension=goal&limit=100',
}

async function exportZip(query: string, key = KEYS.a): Promise<Record<string, string>> {
  const res = await stats(key, `export?${query}`)
  expect(res.status, await res.clone().text()).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/zip')
  expect(res.headers.get('content-disposition')).toBe(`attachment; filename="web-export-${day(D1)}-${day(D1 + DAY)}.zip"`)
  const files = unzipSync(new Uint8Array(await res.arrayBuffer()))
  return Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, strFromU8(bytes)]))
}

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-export-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(tenants))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: file, STATS_K_ANONYMITY: String(K) })
  await send(WRITE.a, orgA)
  await send(WRITE.a, bots, { 'user-agent': HEADLESS_UA })
  await send(WRITE.b, orgB)
  // Written a moment after ingest accepts: wait until every event of org A is readable.
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const body = await json(`timeseries?site=web&${RANGE}&interval=day&source=raw`)
    const [bucket] = body.buckets as { events: number | null }[]
    if (bucket?.events === orgA.length) break
    await new Promise((r) => setTimeout(r, 250))
  }
}, 120_000)

afterAll(async () => {
  await pipeline?.stop()
})

describe('format=csv', () => {
  it('timeseries, breakdowns and aggregate: the CSV holds the JSON answer cell for cell, with a download name', async () => {
    await expectCsvEqualsJson(`timeseries?site=web&${RANGE}&interval=day&source=raw`)
    await expectCsvEqualsJson(`breakdown?site=web&${RANGE}&dimension=url_path&type=pageview`)
    await expectCsvEqualsJson(`breakdown?site=web&${RANGE}&dimension=name&limit=2`)
    await expectCsvEqualsJson(`aggregate?site=web&${RANGE}&compare=previous_period`)
    const res = await stats(KEYS.a, `breakdown?site=web&${RANGE}&dimension=url_path&format=csv`)
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="web-breakdown-${day(D1)}-${day(D1 + DAY)}.csv"`)
  })

  it('names a spreadsheet would run are defused; one fewer than k visitors sent is never named', async () => {
    const text = await csv(`breakdown?site=web&${RANGE}&dimension=name&type=custom`)
    const lines = text.split('\r\n')
    expect(lines).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")",6,6`)
    expect(lines).toContain(`'${AT_FORMULA},5,5`)
    expect(text).not.toContain(HIDDEN_FORMULA)
    for (const [i, record] of parseCsv(text).entries()) if (i > 0) expect(record[0], 'no cell starts a formula').not.toMatch(/^[=+\-@\t\r]/)
  })

  it('a filter isolating k − 1 visitors hides the answer: empty cells, hidden true; k shows it', async () => {
    const few = await expectCsvEqualsJson(`aggregate?site=web&${RANGE}&filters=url_path%3D%3D%2Ffew`)
    const hidden = few[0]?.indexOf('hidden') ?? -1
    const value = few[0]?.indexOf('value') ?? -1
    expect(few.slice(1).every((r) => r[hidden] === 'true' && r[value] === '')).toBe(true)
    const pricing = await expectCsvEqualsJson(`aggregate?site=web&${RANGE}&filters=url_path%3D%3D%2Fpricing`)
    expect(pricing.find((r) => r[0] === 'visitors')?.slice(1, 2)).toEqual(['6'])
    expect(parseCsv(await csv(`breakdown?site=web&${RANGE}&dimension=url_path&filters=url_path%3D%3D%2Ffew`))).toHaveLength(1)
  })

  it('an unknown format is a 400 naming the parameter', async () => {
    const res = await stats(KEYS.a, `timeseries?site=web&format=xlsx`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request', param: 'format' })
  })
})

describe('GET /export', () => {
  it('a zip of every panel, each CSV the panel’s own format=csv answer', async () => {
    const files = await exportZip(`site=web&${RANGE}`)
    expect(Object.keys(files).sort()).toEqual(Object.keys(PANELS).sort())
    for (const [file, path] of Object.entries(PANELS)) expect(files[file], file).toBe(await csv(`${path}&site=web&${RANGE}`))
    expect(files['pages.csv']?.split('\r\n').slice(0, 4)).toEqual(['value,visitors,events', '/home,12,12', '/pricing,6,6', ''])
    expect(files['goals.csv']).toContain('Signup,5,5')
    expect(files['events_custom.csv']?.split('\r\n')).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")",6,6`)
    // Bots are no visitors: 12 people on /home, not 15.
    expect(files['aggregate.csv']).toMatch(/\r\nvisitors,12,/)
  })

  it('with a filter isolating k − 1 visitors, every panel shows nothing; org B’s export of its own "web" holds none of A', async () => {
    const files = await exportZip(`site=web&${RANGE}&filters=url_path%3D%3D%2Ffew`)
    expect(Object.keys(files)).toHaveLength(Object.keys(PANELS).length)
    for (const [file, path] of Object.entries(PANELS)) expect(files[file], file).toBe(await csv(`${path}&site=web&${RANGE}&filters=url_path%3D%3D%2Ffew`))
    expect(files['aggregate.csv']).toMatch(/\r\nvisitors,,.*true\r\n/)
    const b = await exportZip(`site=web&${RANGE}`, KEYS.b)
    const all = Object.values(b).join('\n')
    expect(all).toContain('/b-only,7,7')
    for (const name of ['/home', 'HYPERLINK', 'Signup,']) expect(all).not.toContain(name)
  })

  it('a bad filter is refused as the panels refuse it', async () => {
    const res = await stats(KEYS.a, `export?site=web&${RANGE}&filters=nope%3D%3Dx`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_filter', param: 'filters' })
  })
})
