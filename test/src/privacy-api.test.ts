import { execFile } from 'node:child_process'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { toWarehouseTime, type WireEvent } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { openWarehouse, rows } from './support/warehouse.js'

// The privacy API end to end on the built embedded pipeline: three orgs, keys generated here (only
// their sha256 in the tenants file), events sent through ingest, then every right exercised over HTTP.
// All three have a site `web`, and they share anon ids and raw user ids; org C is configured with org A's
// hmac_secret, so the same user id is the same user_pid there. Only the org filter can keep them apart,
// and every export, erase and suppression by user id and by anon id is checked against the other orgs' rows.

const ORIGIN = 'http://localhost:3998'
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newKey = () => `sk_${randomBytes(32).toString('base64url')}`
const secret = () => randomBytes(32).toString('base64')

const KEYS = { aAnalyst: newKey(), aPrivacy: newKey(), bAnalyst: newKey(), bPrivacy: newKey(), aAdmin: newKey(), cPrivacy: newKey() }
const KEY_IDS: Record<string, string> = {
  [KEYS.aAnalyst]: 'a-analyst',
  [KEYS.aPrivacy]: 'a-privacy',
  [KEYS.bAnalyst]: 'b-analyst',
  [KEYS.bPrivacy]: 'b-privacy',
  [KEYS.aAdmin]: 'a-admin',
  [KEYS.cPrivacy]: 'c-privacy',
}
const SECRETS = { a: secret(), b: secret() }
const WRITE = { a: 'pk_privacy_a', b: 'pk_privacy_b', c: 'pk_privacy_c', short: 'pk_privacy_short' }
type OrgName = 'a' | 'b' | 'c'

// Raw user ids: none may ever be found in the warehouse.
const USERS = { alice: 'alice@a.example', carol: 'carol@a.example', bob: 'bob@b.example', dave: 'dave@a.example' }

function tenants(extraKeysA: { id: string; hash: string; role: string }[] = []) {
  const org = (id: string, hmac: string, [write, short]: string[], keys: { id: string; hash: string; role: string }[]) => ({
    id,
    name: id.toUpperCase(),
    hmac_secret: hmac,
    api_keys: keys,
    sites: [
      { id: 'web', write_key: write, allowed_origins: [ORIGIN], consent_mode: 'opt-out' },
      // A site that keeps raw events one month: older ones go at start-up, daily, and after each reload.
      ...(short ? [{ id: 'short', write_key: short, allowed_origins: [ORIGIN], consent_mode: 'opt-out', retention_months: 1 }] : []),
    ],
  })
  return {
    orgs: [
      org('org-a', SECRETS.a, [WRITE.a, WRITE.short], [
        { id: 'a-analyst', hash: sha256(KEYS.aAnalyst), role: 'analyst' },
        { id: 'a-privacy', hash: sha256(KEYS.aPrivacy), role: 'privacy' },
        ...extraKeysA,
      ]),
      org('org-b', SECRETS.b, [WRITE.b], [
        { id: 'b-analyst', hash: sha256(KEYS.bAnalyst), role: 'analyst' },
        { id: 'b-privacy', hash: sha256(KEYS.bPrivacy), role: 'privacy' },
      ]),
      // Org A's pseudonym key copied into another org (the schema allows it): user_pid collides too.
      org('org-c', SECRETS.a, [WRITE.c], [{ id: 'c-privacy', hash: sha256(KEYS.cPrivacy), role: 'privacy' }]),
    ],
  }
}

let pipeline: RunningPipeline
let tenantsFile: string
let warehouse: ClickHouseClient | undefined
/** Every privacy API call made, as the audit log should have it: `actor|org|action|result` → count. */
const expectedAudit = new Map<string, number>()
const sent = { a: [] as WireEvent[], b: [] as WireEvent[], c: [] as WireEvent[] }
/** Org A's events that must not be stored: erased, dropped while suppressed, or past their site's retention. */
const goneFromA = new Set<string>()

async function send(org: OrgName, events: WireEvent[], writeKey: string = WRITE[org]): Promise<void> {
  const res = await post(pipeline.ingest, batch(events, { k: writeKey }), { origin: ORIGIN })
  expect(res.status).toBe(202)
  await res.arrayBuffer()
  sent[org].push(...events)
}

const ACTIONS: Record<string, string> = { export: 'privacy.export', erase: 'privacy.erase', suppress: 'privacy.suppress', unsuppress: 'privacy.unsuppress', requests: 'privacy.requests' }
const RESULTS: Record<number, string> = { 200: 'ok', 400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 429: 'rate_limited' }

/** Calls the privacy API and tallies the audit row it must leave. */
async function api(key: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(`${pipeline.backoffice}/v1/privacy/${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  const endpoint = path.split('?')[0]!
  const actor = res.status === 401 || key === undefined ? 'unknown' : (KEY_IDS[key] ?? 'unknown')
  const org = actor === 'unknown' ? '' : `org-${actor.slice(0, 1)}`
  const tally = `${actor}|${org}|${ACTIONS[endpoint]}|${RESULTS[res.status] ?? res.status}`
  expectedAudit.set(tally, (expectedAudit.get(tally) ?? 0) + 1)
  return res
}

interface Exported {
  event_id: string
  org_id: string
  user_pid: string
  anon_id: string
}

async function exportNdjson(key: string, query: string): Promise<Exported[]> {
  const res = await api(key, 'GET', `export?${query}`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('application/x-ndjson')
  const text = await res.text()
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l) as Exported)
}

async function exportJson(key: string, query: string): Promise<{ subject: Record<string, string>; org_id: string; events: Exported[] }> {
  const res = await api(key, 'GET', `export?${query}&format=json`)
  expect(res.status).toBe(200)
  return res.json() as Promise<{ subject: Record<string, string>; org_id: string; events: Exported[] }>
}

const ids = (events: { id?: string; event_id?: string }[]) => events.map((e) => e.event_id ?? e.id).sort()
const pidOf = (orgSecret: string, userId: string) => createHmac('sha256', Buffer.from(orgSecret, 'base64')).update(userId).digest('hex')

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

const alice = { a: [event({ uid: USERS.alice, a: 'anon_alice_1' }), event({ uid: USERS.alice, a: 'anon_alice_1', t: 'query', n: 'q1' }), event({ uid: USERS.alice, a: 'anon_alice_2' })] }
// The same raw user id and the same anon id in org B are other people.
const aliceInB = [event({ uid: USERS.alice, a: 'anon_shared' })]
const visitorA = [event({ a: 'anon_shared' }), event({ a: 'anon_shared', t: 'click', n: 'cta' })]
const bob = [event({ uid: USERS.bob, a: 'anon_bob' }), event({ uid: USERS.bob, a: 'anon_bob' })]
const carol = [event({ uid: USERS.carol, a: 'anon_carol' }), event({ uid: USERS.carol, a: 'anon_carol' })]
// Org C, with org A's pseudonym key: the same users (so the same user_pid) and the same anon ids as org A's.
const inC = {
  alice: [event({ uid: USERS.alice, a: 'anon_alice_1' }), event({ uid: USERS.alice, a: 'anon_alice_2' })],
  carol: [event({ uid: USERS.carol, a: 'anon_carol' })],
  shared: [event({ a: 'anon_shared' })],
}
// One anon id in all three orgs, which org A erases; one user every org has, whom org A suppresses.
const twin = { a: [event({ a: 'anon_twin' }), event({ a: 'anon_twin', t: 'click', n: 'cta' })], b: [event({ a: 'anon_twin' })], c: [event({ a: 'anon_twin' }), event({ a: 'anon_twin' })] }
const dave = { a: [event({ uid: USERS.dave, a: 'anon_dave' })], b: [event({ uid: USERS.dave, a: 'anon_dave' })], c: [event({ uid: USERS.dave, a: 'anon_dave' })] }
const DAY = 86_400_000
const shortSite = { old: event({ a: 'anon_short', ts: Date.now() - 40 * DAY }), fresh: event({ a: 'anon_short' }) }

/**
 * Ingest refuses events more than 30 days older than their batch, so a 40-day-old row can only be one that aged in
 * the warehouse: written here, by a separate process (one engine per directory at a time), before the pipeline starts.
 */
async function seedAgedEvent(dataDir: string, e: WireEvent): Promise<void> {
  const row = { org_id: 'org-a', site_id: 'short', event_id: e.id, type: e.t, anon_id: e.a, ts: toWarehouseTime(e.ts) }
  const script = `import { createWarehouseClient, migrate } from '@atspark/warehouse'
const c = createWarehouseClient({ dataDir: process.env.DIR })
await migrate(c)
await c.insert({ table: 'atspark.events', values: [JSON.parse(process.env.ROW)], format: 'JSONEachRow' })
await c.close()`
  await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { PATH: process.env.PATH, DIR: dataDir, ROW: JSON.stringify(row) },
  })
}

beforeAll(async () => {
  tenantsFile = join(mkdtempSync(join(tmpdir(), 'atspark-privacy-')), 'tenants.json')
  writeFileSync(tenantsFile, JSON.stringify(tenants()))
  const dataDir = mkdtempSync(join(tmpdir(), 'atspark-privacy-data-'))
  await seedAgedEvent(dataDir, shortSite.old)
  sent.a.push(shortSite.old)
  goneFromA.add(shortSite.old.id)
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: tenantsFile, ATSPARK_DATA_DIR: dataDir })
  await send('a', [...alice.a, ...visitorA, ...carol, ...twin.a, ...dave.a])
  await send('b', [...aliceInB, ...bob, ...twin.b, ...dave.b])
  await send('c', [...inC.alice, ...inC.carol, ...inC.shared, ...twin.c, ...dave.c])
  await send('a', [shortSite.fresh], WRITE.short)
})

afterAll(async () => {
  await pipeline?.stop()
  await warehouse?.close()
})

describe('privacy API on the embedded pipeline (running)', () => {
  it('exports a user by user id as NDJSON: exactly their events, pseudonymized with the org secret', async () => {
    const rowsOut = await exportNdjson(KEYS.aPrivacy, `user_id=${encodeURIComponent(USERS.alice)}`)
    expect(ids(rowsOut)).toEqual(ids(alice.a))
    for (const row of rowsOut) expect(row).toMatchObject({ org_id: 'org-a', user_pid: pidOf(SECRETS.a, USERS.alice) })
    expect(JSON.stringify(rowsOut)).not.toContain(USERS.alice)
    // Org C stores the very same user_pid for her: only the org tells the rows apart.
    const inOrgC = await exportNdjson(KEYS.cPrivacy, `user_id=${encodeURIComponent(USERS.alice)}`)
    expect(ids(inOrgC)).toEqual(ids(inC.alice))
    for (const row of inOrgC) expect(row).toMatchObject({ org_id: 'org-c', user_pid: pidOf(SECRETS.a, USERS.alice) })
  })

  it('exports by user id as JSON, with the subject', async () => {
    const body = await exportJson(KEYS.aPrivacy, `user_id=${encodeURIComponent(USERS.alice)}`)
    expect(body.org_id).toBe('org-a')
    expect(body.subject).toEqual({ kind: 'user', user_id: USERS.alice, user_pid: pidOf(SECRETS.a, USERS.alice) })
    expect(ids(body.events)).toEqual(ids(alice.a))
  })

  it('exports by anon id in both formats: only that anon id, only in the key org', async () => {
    expect(ids(await exportNdjson(KEYS.aPrivacy, 'anon_id=anon_alice_1'))).toEqual(ids(alice.a.slice(0, 2)))
    const shared = await exportJson(KEYS.aPrivacy, 'anon_id=anon_shared')
    expect(shared.subject).toEqual({ kind: 'anon', anon_id: 'anon_shared' })
    expect(ids(shared.events)).toEqual(ids(visitorA))
    expect(ids((await exportJson(KEYS.bPrivacy, 'anon_id=anon_shared')).events)).toEqual(ids(aliceInB))
    expect(ids(await exportNdjson(KEYS.cPrivacy, 'anon_id=anon_shared'))).toEqual(ids(inC.shared))
    expect(ids((await exportJson(KEYS.cPrivacy, 'anon_id=anon_alice_1')).events)).toEqual(ids(inC.alice.slice(0, 1)))
  })

  it('answers 401 to a missing or unknown key and 403 to an analyst key, on every endpoint', async () => {
    const calls: [string, 'GET' | 'POST', string, unknown?][] = [
      ['export', 'GET', `export?user_id=${encodeURIComponent(USERS.bob)}`],
      ['erase', 'POST', 'erase', { user_id: USERS.bob }],
      ['suppress', 'POST', 'suppress', { anon_id: 'anon_bob' }],
      ['unsuppress', 'POST', 'unsuppress', { anon_id: 'anon_bob' }],
      ['requests', 'GET', 'requests'],
    ]
    for (const [, method, path, body] of calls) {
      expect((await api(undefined, method, path, body)).status).toBe(401)
      expect((await api(newKey(), method, path, body)).status).toBe(401)
      expect((await api(KEYS.aAnalyst, method, path, body)).status).toBe(403)
      expect((await api(KEYS.bAnalyst, method, path, body)).status).toBe(403)
    }
    expect(await (await api(KEYS.aAnalyst, 'GET', 'requests')).json()).toMatchObject({ error: 'forbidden' })
  })

  it('answers 400 with a reason to a request without exactly one subject', async () => {
    const res = await api(KEYS.aPrivacy, 'POST', 'erase', { user_id: USERS.alice, anon_id: 'anon_alice_1' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('exactly one') })
    expect((await api(KEYS.aPrivacy, 'GET', 'export?format=json')).status).toBe(400)
  })

  it("gives org A's key nothing of org B, whatever the request names", async () => {
    const asB = `user_id=${encodeURIComponent(USERS.bob)}&org_id=org-b`
    expect(await exportNdjson(KEYS.aPrivacy, asB)).toEqual([])
    expect((await exportJson(KEYS.aPrivacy, asB)).events).toEqual([])
    expect((await exportJson(KEYS.aPrivacy, 'anon_id=anon_bob&org_id=org-b')).events).toEqual([])
    const erase = await api(KEYS.aPrivacy, 'POST', 'erase', { user_id: USERS.bob, org_id: 'org-b' })
    expect(await erase.json()).toMatchObject({ status: 'done', deleted: 0, remaining: 0 })
    expect((await api(KEYS.aPrivacy, 'POST', 'suppress', { anon_id: 'anon_bob', org_id: 'org-b' })).status).toBe(200)
    // Org B's subject is untouched and not suppressed: a new event of theirs is stored.
    const later = event({ uid: USERS.bob, a: 'anon_bob' })
    await send('b', [later])
    expect(ids(await exportNdjson(KEYS.bPrivacy, `user_id=${encodeURIComponent(USERS.bob)}`))).toEqual(ids([...bob, later]))
    expect(ids(await exportNdjson(KEYS.bPrivacy, 'anon_id=anon_bob'))).toEqual(ids([...bob, later]))
    bob.push(later)
  })

  it('erases a subject by user id: count 0 as proof, export empty, later events not stored; org C’s rows with the same user_pid stay', async () => {
    const res = await api(KEYS.aPrivacy, 'POST', 'erase', { user_id: USERS.carol })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ status: 'done', deleted: 2, remaining: 0, suppressed: true, subject_hash: sha256(USERS.carol) })
    for (const e of carol) goneFromA.add(e.id)
    expect(await exportNdjson(KEYS.aPrivacy, `user_id=${encodeURIComponent(USERS.carol)}`)).toEqual([])
    // Ingest still answers 202 (it cannot know), but the processor drops the suppressed subject's events.
    const afterA = event({ uid: USERS.carol, a: 'anon_carol_new' })
    const afterC = event({ uid: USERS.carol, a: 'anon_carol_new' })
    await send('a', [afterA])
    await send('c', [afterC])
    goneFromA.add(afterA.id)
    expect(await exportNdjson(KEYS.aPrivacy, `user_id=${encodeURIComponent(USERS.carol)}`)).toEqual([])
    expect(await exportNdjson(KEYS.aPrivacy, 'anon_id=anon_carol_new')).toEqual([])
    // Org C's carol has the same user_pid and anon id: neither erased nor suppressed.
    expect(ids(await exportNdjson(KEYS.cPrivacy, `user_id=${encodeURIComponent(USERS.carol)}`))).toEqual(ids([...inC.carol, afterC]))
    expect(ids(await exportNdjson(KEYS.cPrivacy, 'anon_id=anon_carol'))).toEqual(ids(inC.carol))
  })

  it('suppresses an anon id (its new events are dropped) and unsuppresses it (they flow again)', async () => {
    const before = event({ a: 'anon_restrict' })
    await send('a', [before])
    expect((await api(KEYS.aPrivacy, 'POST', 'suppress', { anon_id: 'anon_restrict' })).status).toBe(200)
    const whileSuppressed = [event({ a: 'anon_restrict' }), event({ a: 'anon_restrict' })]
    await send('a', whileSuppressed)
    for (const e of whileSuppressed) goneFromA.add(e.id)
    // The same anon id in org C is someone else: stored.
    const inOrgC = [event({ a: 'anon_restrict' })]
    await send('c', inOrgC)
    expect(ids(await exportNdjson(KEYS.cPrivacy, 'anon_id=anon_restrict'))).toEqual(ids(inOrgC))
    expect(ids(await exportNdjson(KEYS.aPrivacy, 'anon_id=anon_restrict'))).toEqual(ids([before]))
    const res = await api(KEYS.aPrivacy, 'POST', 'unsuppress', { anon_id: 'anon_restrict' })
    expect(await res.json()).toMatchObject({ status: 'done', suppressed: false })
    const after = event({ a: 'anon_restrict' })
    await send('a', [after])
    expect(ids(await exportNdjson(KEYS.aPrivacy, 'anon_id=anon_restrict'))).toEqual(ids([before, after]))
  })

  it("lists the key org's requests and their status, and none of the other org's", async () => {
    const res = await api(KEYS.aPrivacy, 'GET', 'requests?org_id=org-b')
    const body = (await res.json()) as { org_id: string; requests: { kind: string; status: string; subject_hash: string; detail: string }[] }
    expect(body.org_id).toBe('org-a')
    const erase = body.requests.find((r) => r.kind === 'erase' && r.subject_hash === sha256(USERS.carol))
    expect(erase).toMatchObject({ status: 'done' })
    expect(JSON.parse(erase!.detail)).toMatchObject({ deleted: 2, remaining: 0 })
    expect(new Set(body.requests.map((r) => r.kind))).toEqual(new Set(['export', 'erase', 'suppress', 'unsuppress']))
    expect(body.requests.every((r) => r.status === 'done')).toBe(true)
    const forB = (await (await api(KEYS.bPrivacy, 'GET', 'requests')).json()) as { requests: { kind: string }[] }
    // Org B's own exports so far (one JSON, two NDJSON), and nothing org A's key did in its name.
    expect(forB.requests.map((r) => r.kind)).toEqual(['export', 'export', 'export'])
  })

  it('erases an anon id in the key org only: the same anon id in orgs B and C keeps its rows and its later events', async () => {
    const res = await api(KEYS.aPrivacy, 'POST', 'erase', { anon_id: 'anon_twin' })
    expect(await res.json()).toMatchObject({ status: 'done', deleted: twin.a.length, remaining: 0, suppressed: true, subject_hash: sha256('anon_twin') })
    for (const e of twin.a) goneFromA.add(e.id)
    expect(await exportNdjson(KEYS.aPrivacy, 'anon_id=anon_twin')).toEqual([])
    expect(ids(await exportNdjson(KEYS.bPrivacy, 'anon_id=anon_twin'))).toEqual(ids(twin.b))
    expect(ids((await exportJson(KEYS.cPrivacy, 'anon_id=anon_twin')).events)).toEqual(ids(twin.c))
    // Suppressed in org A only: A's next event is dropped, B's and C's are stored.
    const later = { a: event({ a: 'anon_twin' }), b: event({ a: 'anon_twin' }), c: event({ a: 'anon_twin' }) }
    await send('a', [later.a])
    await send('b', [later.b])
    await send('c', [later.c])
    goneFromA.add(later.a.id)
    twin.b.push(later.b)
    twin.c.push(later.c)
    expect(await exportNdjson(KEYS.aPrivacy, 'anon_id=anon_twin')).toEqual([])
    expect(ids(await exportNdjson(KEYS.bPrivacy, 'anon_id=anon_twin'))).toEqual(ids(twin.b))
    expect(ids(await exportNdjson(KEYS.cPrivacy, 'anon_id=anon_twin'))).toEqual(ids(twin.c))
  })

  it('suppresses a user id in the key org only: org C’s user with the same user_pid, and org B’s, are still stored', async () => {
    expect((await api(KEYS.aPrivacy, 'POST', 'suppress', { user_id: USERS.dave })).status).toBe(200)
    const later = { a: event({ uid: USERS.dave, a: 'anon_dave' }), b: event({ uid: USERS.dave, a: 'anon_dave' }), c: event({ uid: USERS.dave, a: 'anon_dave' }) }
    await send('a', [later.a])
    await send('b', [later.b])
    await send('c', [later.c])
    goneFromA.add(later.a.id)
    const user = `user_id=${encodeURIComponent(USERS.dave)}`
    // Suppression stops what comes next; what was stored before stays until erased.
    expect(ids(await exportNdjson(KEYS.aPrivacy, user))).toEqual(ids(dave.a))
    expect(ids(await exportNdjson(KEYS.bPrivacy, user))).toEqual(ids([...dave.b, later.b]))
    expect(ids(await exportNdjson(KEYS.cPrivacy, user))).toEqual(ids([...dave.c, later.c]))
    dave.b.push(later.b)
    dave.c.push(later.c)
  })

  it('reloads a changed tenants file on SIGHUP without dropping in-flight requests, and keeps the old config on a bad file', async () => {
    writeFileSync(tenantsFile, JSON.stringify(tenants([{ id: 'a-admin', hash: sha256(KEYS.aAdmin), role: 'admin' }])))
    const burst = Array.from({ length: 20 }, () => event({ a: 'anon_reload' }))
    const inFlight = [
      ...burst.map((e) => post(pipeline.ingest, batch([e], { k: WRITE.a }), { origin: ORIGIN }).then((r) => r.status)),
      ...Array.from({ length: 10 }, () =>
        api(KEYS.aPrivacy, 'GET', 'export?anon_id=anon_shared').then(async (r) => {
          await r.text()
          return r.status
        }),
      ),
    ]
    pipeline.signal('SIGHUP')
    const statuses = await Promise.all(inFlight)
    expect(statuses.filter((s) => s !== 202 && s !== 200)).toEqual([])
    sent.a.push(...burst)
    await waitFor('the new admin key', async () => (await api(KEYS.aAdmin, 'GET', 'requests')).status === 200)
    expect(ids(await exportNdjson(KEYS.aAdmin, 'anon_id=anon_reload'))).toEqual(ids(burst))
    // The reload also applied the one-month site's retention: its 40-day-old event is gone, the fresh one stays.
    await waitFor('site retention', async () => (await exportNdjson(KEYS.aAdmin, 'anon_id=anon_short')).length === 1)
    expect(ids(await exportNdjson(KEYS.aAdmin, 'anon_id=anon_short'))).toEqual(ids([shortSite.fresh]))

    // A broken file: logged, audited, and the running config (with the admin key) stays.
    writeFileSync(tenantsFile, '{"orgs": [')
    pipeline.signal('SIGHUP')
    await waitFor('the failed reload in the log', () => pipeline.output().includes('tenants reload failed'))
    expect((await api(KEYS.aAdmin, 'GET', 'requests')).status).toBe(200)

    // Dropping the key from the file revokes it on the next reload.
    writeFileSync(tenantsFile, JSON.stringify(tenants()))
    pipeline.signal('SIGHUP')
    await waitFor('the admin key revoked', async () => (await api(KEYS.aAdmin, 'GET', 'requests')).status === 401)
    expect((await api(KEYS.aPrivacy, 'GET', 'requests')).status).toBe(200)
  })

  it('leaves orgs B and C complete after everything org A did', async () => {
    expect(ids(await exportNdjson(KEYS.bPrivacy, `user_id=${encodeURIComponent(USERS.bob)}`))).toEqual(ids(bob))
    expect(ids(await exportNdjson(KEYS.bPrivacy, `user_id=${encodeURIComponent(USERS.alice)}`))).toEqual(ids(aliceInB))
    expect(ids(await exportNdjson(KEYS.cPrivacy, `user_id=${encodeURIComponent(USERS.alice)}`))).toEqual(ids(inC.alice))
  })

  it('logged no key, secret or raw user id', () => {
    const out = pipeline.output()
    for (const secretText of [...Object.values(KEYS), ...Object.values(SECRETS), ...Object.values(USERS)]) expect(out).not.toContain(secretText)
  })
})

describe('the warehouse after the pipeline stopped', () => {
  let retentionReport = ''
  beforeAll(async () => {
    expect(await pipeline.stop()).toBe(0)
    // One process at a time per chDB directory: the report command runs before this process opens it.
    const retention = fileURLToPath(new URL('../../warehouse/dist/cli/retention.js', import.meta.url))
    retentionReport = (await promisify(execFile)(process.execPath, [retention, '--json'], { env: { PATH: process.env.PATH, ATSPARK_DATA_DIR: pipeline.dataDir } })).stdout
    warehouse = openWarehouse(pipeline.dataDir)
  })

  it('audited every privacy API attempt, allowed or not, with actor, org, action and result', async () => {
    const logged = await rows<{ actor_key_id: string; org_id: string; action: string; result: string; detail: string }>(
      warehouse!,
      `SELECT actor_key_id, org_id, action, result, detail FROM atspark.audit_log WHERE action LIKE 'privacy.%'`,
    )
    // Allowed calls have a row each; refused ones (checked before the body is read) are counted per minute and address prefix.
    const actual = new Map<string, number>()
    for (const r of logged) {
      const detail = JSON.parse(r.detail) as { per?: string; attempts?: number }
      const key = `${r.actor_key_id}|${r.org_id}|${r.action}|${r.result}`
      actual.set(key, (actual.get(key) ?? 0) + (detail.per === 'minute' ? (detail.attempts ?? 0) : 1))
    }
    expect(actual).toEqual(expectedAudit)
    expect(actual.get('unknown||privacy.erase|unauthorized')).toBe(2)
    expect(actual.get('a-analyst|org-a|privacy.export|forbidden')).toBe(1)
  })

  it('kept the subject only as a sha256 in the audit log, with the erase proof', async () => {
    const [erase] = await rows<{ subject_hash: string; detail: string; result: string }>(
      warehouse!,
      `SELECT subject_hash, detail, result FROM atspark.audit_log WHERE action = 'privacy.erase' AND subject_hash = '${sha256(USERS.carol)}'`,
    )
    expect(erase?.result).toBe('ok')
    expect(JSON.parse(erase!.detail)).toMatchObject({ deleted: 2, remaining: 0 })
    // A refused call is turned away before its body is read: its count carries no subject at all.
    const refused = await rows<{ subject_hash: string }>(warehouse!, `SELECT subject_hash FROM atspark.audit_log WHERE action = 'privacy.erase' AND result = 'unauthorized'`)
    expect(refused.length).toBeGreaterThan(0)
    expect(refused.map((r) => r.subject_hash)).toEqual(refused.map(() => ''))
  })

  it('recorded the erase request with its proof in privacy_requests', async () => {
    const [request] = await rows<{ status: string; detail: string; finished_at: string | null; actor_key_id: string }>(
      warehouse!,
      `SELECT status, detail, finished_at, actor_key_id FROM atspark.privacy_requests FINAL WHERE kind = 'erase' AND subject_hash = '${sha256(USERS.carol)}'`,
    )
    expect(request).toMatchObject({ status: 'done', actor_key_id: 'a-privacy' })
    expect(request?.finished_at).not.toBeNull()
    expect(JSON.parse(request!.detail)).toMatchObject({ deleted: 2, remaining: 0 })
  })

  it('audited each tenants reload and each migration', async () => {
    const reloads = await rows<{ result: string; n: string }>(warehouse!, `SELECT result, count() AS n FROM atspark.audit_log WHERE action = 'tenants.reload' GROUP BY result ORDER BY result`)
    expect(reloads).toEqual([
      { result: 'failed', n: '1' },
      { result: 'ok', n: '2' },
    ])
    const [retention] = await rows<{ detail: string }>(warehouse!, `SELECT detail FROM atspark.audit_log WHERE action = 'retention.site'`)
    expect(JSON.parse(retention!.detail)).toEqual({ org_id: 'org-a', site_id: 'short', retention_months: 1, deleted: 1 })
    const migrations = await rows<{ detail: string }>(warehouse!, `SELECT detail FROM atspark.audit_log WHERE action = 'migration' ORDER BY detail`)
    expect(migrations.map((m) => JSON.parse(m.detail).version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
  })

  it('stores the suppressions as pseudonyms: the erased user by user_pid, the anon by its hash, each at its latest state', async () => {
    const state = await rows<{ org_id: string; subject_kind: string; subject: string; active: boolean }>(
      warehouse!,
      'SELECT org_id, subject_kind, subject, active FROM atspark.suppressions FINAL ORDER BY org_id, subject_kind, subject',
    )
    expect(state).toContainEqual({ org_id: 'org-a', subject_kind: 'user', subject: pidOf(SECRETS.a, USERS.carol), active: true })
    expect(state).toContainEqual({ org_id: 'org-a', subject_kind: 'anon', subject: sha256('anon_restrict'), active: false })
    expect(state.filter((s) => s.org_id !== 'org-a')).toEqual([])
  })

  it('holds no raw user id in any table, and only the events nobody erased or suppressed', async () => {
    for (const table of ['events', 'audit_log', 'privacy_requests', 'suppressions', 'consent_log']) {
      const dump = JSON.stringify(await rows(warehouse!, `SELECT * FROM atspark.${table}`))
      for (const raw of Object.values(USERS)) expect(dump, `${table} holds ${raw}`).not.toContain(raw)
    }
    const stored = await rows<{ event_id: string; org_id: string }>(warehouse!, 'SELECT event_id, org_id FROM atspark.events')
    // Orgs B and C: everything they sent, although they share anon ids (and C user_pids) with what org A erased and suppressed.
    expect(ids(stored.filter((s) => s.org_id === 'org-b'))).toEqual(ids(sent.b))
    expect(ids(stored.filter((s) => s.org_id === 'org-c'))).toEqual(ids(sent.c))
    // Org A: everything sent but what was erased (carol's two, anon_twin's two), dropped while suppressed (carol's,
    // anon_restrict's two, anon_twin's and dave's later events), and the short-retention site's old event.
    expect(goneFromA.size).toBe(carol.length + 1 + 2 + twin.a.length + 1 + 1 + 1)
    expect(ids(stored.filter((s) => s.org_id === 'org-a'))).toEqual(ids(sent.a.filter((e) => !goneFromA.has(e.id))))
  })

  it('has a TTL on every table but suppressions and schema_migrations, and `retention` reports each with its oldest row', () => {
    const report = JSON.parse(retentionReport) as { table: string; ttl: string; oldest: string | null; rows: number }[]
    const ttl = Object.fromEntries(report.map((t) => [t.table, t.ttl]))
    expect(ttl).toEqual({
      audit_log: 'toDateTime(time) + toIntervalMonth(25)',
      consent_log: 'toDateTime(received_at) + toIntervalMonth(26)',
      events: 'toDateTime(ts) + toIntervalMonth(13)',
      privacy_requests: 'toDateTime(created_at) + toIntervalMonth(25)',
      rollup_dims_daily: 'toDateTime(bucket) + toIntervalMonth(25)',
      rollup_dims_hourly: 'toDateTime(bucket) + toIntervalMonth(25)',
      schema_migrations: '',
      // A link row outlives its expiry by a month (revocations and audits can still name it), then goes.
      shared_links: 'toDateTime(expires_at) + toIntervalMonth(1)',
      suppressions: '',
    })
    const events = report.find((t) => t.table === 'events')
    expect(events?.rows).toBeGreaterThan(0)
    expect(events?.oldest).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/)
    // The views filled the rollups from the same events; they are listed, the views themselves are not.
    expect(report.find((t) => t.table === 'rollup_dims_daily')?.rows).toBeGreaterThan(0)
    expect(report.map((t) => t.table)).not.toContain('rollup_dims_daily_mv')
  })
})
