// One processor measurement in a fresh process and a fresh chDB directory (one engine per directory and process).
// mode "enrich": envelopes → toEventRows (open IP, geo, truncate, UA parse, bot flag, pseudonym) → recordWriter insert.
// mode "raw":    the same rows enriched and serialized to JSONEachRow beforehand; only the insert is timed.
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { pseudonymizer, sealIp } from '@atspark/runtime'
import { createWarehouseClient, migrate, recordWriter } from '@atspark/warehouse'
import { ipOpener, openGeo, toEventRows } from '@atspark/processor'
import { envelopes } from '../lib/traffic.mjs'

const cfg = JSON.parse(process.argv[2] ?? '{}')
const ORG = 'bench'
const SITE = 'web'
const keyring = { active: 'b1', keys: new Map([['b1', randomBytes(32)]]) }
const secret = randomBytes(32)
const input = envelopes({ count: cfg.envelopes, eventsPerEnvelope: cfg.eventsPerEnvelope, seed: cfg.seed, orgId: ORG, siteId: SITE, now: cfg.now, seal: (ip) => sealIp(ip, keyring, { orgId: ORG, siteId: SITE }) })
const rows = cfg.envelopes * cfg.eventsPerEnvelope
const perChunk = Math.max(1, Math.floor(cfg.chunkRows / cfg.eventsPerEnvelope))
const chunks = []
for (let i = 0; i < input.length; i += perChunk) chunks.push(input.slice(i, i + perChunk))

const client = createWarehouseClient({ dataDir: cfg.dataDir })
await migrate(client)
const deps = { geo: await openGeo(), pseudonymize: pseudonymizer(() => secret), openIp: ipOpener(() => keyring) }
const toRecords = (chunk) => chunk.flatMap((e) => toEventRows(e, deps).map((row) => ({ table: 'events', row })))

// With `profile`, only the timed part is profiled (not data generation, engine start-up or migrations).
const inspector = cfg.profile ? new Session() : undefined
if (inspector) {
  inspector.connect()
  await inspector.post('Profiler.enable')
  await inspector.post('Profiler.start')
}
let enrichMs = 0
let insertMs = 0
const started = performance.now()
if (cfg.mode === 'enrich') {
  const write = recordWriter(client)
  for (const chunk of chunks) {
    const t = performance.now()
    const records = toRecords(chunk)
    enrichMs += performance.now() - t
    const u = performance.now()
    await write(records)
    insertMs += performance.now() - u
  }
} else {
  // Same rows, same serialization the client would do, done before the clock starts.
  const bodies = chunks.map((chunk) => toRecords(chunk).map((r) => `${JSON.stringify(r.row)}\n`).join(''))
  const t = performance.now()
  for (const body of bodies) {
    // chDB's connection takes a string body as is; settings as recordWriter sends them.
    const result = await client.exec({ query: 'INSERT INTO atspark.events FORMAT JSONEachRow', values: body, clickhouse_settings: { insert_deduplication_token: '' } })
    result.stream.destroy()
  }
  insertMs = performance.now() - t
}
const seconds = (cfg.mode === 'enrich' ? performance.now() - started : insertMs) / 1000
if (inspector) writeFileSync(cfg.profile, JSON.stringify((await inspector.post('Profiler.stop')).profile))
const counted = await (await client.query({ query: 'SELECT count() AS n FROM atspark.events', format: 'JSONEachRow' })).json()
await client.close()
if (Number(counted[0]?.n) !== rows) throw new Error(`expected ${rows} rows in the warehouse, found ${counted[0]?.n}`)
console.log(JSON.stringify({ mode: cfg.mode, rows, chunks: chunks.length, seconds, rowsPerSecond: rows / seconds, enrichMs, insertMs }))
