import { compileTrust, createLogger, pseudonymizer, TenantDirectory, generateApiKey, subjectHash } from '@atspark/runtime'
import type { AuditRow, PrivacyRequestRow, SuppressionRow } from '@atspark/schemas'
import { Registry } from 'prom-client'
import { beforeEach, describe, expect, it } from 'vitest'
import { createBackofficeApp } from '../app.js'
import type { PrivacyApiDeps } from './api.js'
import { RefusedAttempts } from './refusals.js'
import type { PrivacyRequestOut, PrivacyStore, SubjectMatch } from '@atspark/warehouse'

interface FakeEvent {
  org_id: string
  event_id: string
  user_pid: string
  anon_id: string
}

/**
 * The warehouse as the privacy API sees it, in memory. Events are matched by subject only, in every
 * org: filtering by org is the warehouse store's job (its SQL is proven end to end, with orgs sharing
 * anon ids and user_pids, in test/src/privacy-api.test.ts), so a fake doing it could only hide a missing
 * filter. Here the API is held to asking for the key's org in every call.
 */
class FakeStore implements PrivacyStore {
  events: FakeEvent[] = []
  audits: AuditRow[] = []
  requests: PrivacyRequestRow[] = []
  suppressionRows: SuppressionRow[] = []
  /** Every event read or delete, with the org the API asked for. */
  calls: { op: 'export' | 'count' | 'delete'; orgId: string }[] = []
  failAudit = false
  private matches = (m: SubjectMatch) => (e: FakeEvent) => e[m.column] === m.value && m.value !== ''
  async audit(rows: readonly AuditRow[]) {
    if (this.failAudit) throw new Error('audit_log unavailable')
    this.audits.push(...rows)
  }
  async putRequest(row: PrivacyRequestRow) {
    this.requests.push(row)
  }
  async listRequests(orgId: string): Promise<PrivacyRequestOut[]> {
    const latest = new Map<string, PrivacyRequestRow>()
    for (const r of this.requests) if (r.org_id === orgId && (latest.get(r.request_id)?.version ?? -1) < r.version) latest.set(r.request_id, r)
    return [...latest.values()].map(({ org_id: _o, version: _v, ...rest }) => rest)
  }
  async *exportEvents(orgId: string, m: SubjectMatch) {
    this.calls.push({ op: 'export', orgId })
    for (const e of this.events.filter(this.matches(m))) yield JSON.stringify(e)
  }
  async countEvents(orgId: string, m: SubjectMatch) {
    this.calls.push({ op: 'count', orgId })
    return this.events.filter(this.matches(m)).length
  }
  async deleteEvents(orgId: string, m: SubjectMatch) {
    this.calls.push({ op: 'delete', orgId })
    const hit = this.matches(m)
    this.events = this.events.filter((e) => !hit(e))
  }
  async putSuppression(row: SuppressionRow) {
    this.suppressionRows.push(row)
  }
  async activeSuppressions() {
    return []
  }
}

const keys = { aPrivacy: generateApiKey(), aAnalyst: generateApiKey(), aAdmin: generateApiKey(), bPrivacy: generateApiKey() }
const site = (key: string) => [{ id: 'web', write_key: key, allowed_origins: ['https://x.example'], consent_mode: 'opt-in' as const }]
const tenants = TenantDirectory.from({
  orgs: [
    {
      id: 'org-a',
      name: 'A',
      hmac_secret: Buffer.alloc(32, 1).toString('base64'),
      api_keys: [
        { id: 'a-privacy', hash: keys.aPrivacy.hash, role: 'privacy' },
        { id: 'a-analyst', hash: keys.aAnalyst.hash, role: 'analyst' },
        { id: 'a-admin', hash: keys.aAdmin.hash, role: 'admin' },
      ],
      sites: site('pk_aaa'),
    },
    { id: 'org-b', name: 'B', hmac_secret: Buffer.alloc(32, 2).toString('base64'), api_keys: [{ id: 'b-privacy', hash: keys.bPrivacy.hash, role: 'privacy' }], sites: site('pk_bbb') },
  ],
})
const secrets: Record<string, Buffer> = { 'org-a': Buffer.alloc(32, 1), 'org-b': Buffer.alloc(32, 2) }
const pseudonymize = pseudonymizer((org) => secrets[org] ?? Buffer.alloc(0))

let store: FakeStore
/** What the API hands a same-process pipeline: (org, kind, key) → active. The processor's SuppressionSet matches events by these keys. */
class RecordedSuppressions {
  readonly active = new Set<string>()
  set(orgId: string, kind: string, subject: string, active: boolean): void {
    const key = `${orgId}\u0000${kind}\u0000${subject}`
    if (active) this.active.add(key)
    else this.active.delete(key)
  }
  has(orgId: string, kind: string, subject: string): boolean {
    return this.active.has(`${orgId}\u0000${kind}\u0000${subject}`)
  }
  /** As the processor decides for a row: its user_pid, or the sha256 of its anon id. */
  suppresses(row: { org_id: string; user_pid: string; anon_id: string }): boolean {
    return (row.user_pid !== '' && this.has(row.org_id, 'user', row.user_pid)) || (row.anon_id !== '' && this.has(row.org_id, 'anon', subjectHash(row.anon_id)))
  }
}
let suppressions: RecordedSuppressions
let app: ReturnType<typeof createBackofficeApp>
let refusals: RefusedAttempts
let clock: number

beforeEach(() => {
  store = new FakeStore()
  store.events = [
    { org_id: 'org-a', event_id: 'a1', user_pid: pseudonymize('org-a', 'alice'), anon_id: 'anon-a' },
    { org_id: 'org-a', event_id: 'a2', user_pid: '', anon_id: 'anon-a' },
    { org_id: 'org-b', event_id: 'b1', user_pid: pseudonymize('org-b', 'alice'), anon_id: 'anon-b' },
  ]
  suppressions = new RecordedSuppressions()
  clock = Date.UTC(2026, 10, 28, 12, 0, 30)
  refusals = new RefusedAttempts({ ratePerSecond: 1, burst: 30, maxTracked: 1000, now: () => clock })
  const privacy: PrivacyApiDeps = {
    tenants: () => tenants,
    store,
    pseudonymize,
    suppressions,
    logger: createLogger('privacy-test', 'silent'),
    refusals,
    trust: compileTrust(['loopback']),
  }
  const warehouse = { ping: async () => ({ success: true }) } as unknown as Parameters<typeof createBackofficeApp>[0]['warehouse']
  app = createBackofficeApp({ warehouse, registries: [new Registry()], privacy })
})

const auth = (key: string) => ({ authorization: `Bearer ${key}` })
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(`/v1/privacy/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

describe('privacy API authentication and roles', () => {
  it.each([
    ['no header', {}],
    ['an unknown key', auth('sk_not-a-key')],
    ['a non-bearer scheme', { authorization: `Basic ${keys.aPrivacy.key}` }],
  ])('answers 401 for %s, and counts the attempt without a row of its own or a subject', async (_name, headers) => {
    const res = await app.request('/v1/privacy/export?user_id=alice', { headers })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
    expect(store.audits).toEqual([])
    expect(refusals.drain(true)).toEqual([expect.objectContaining({ actor_key_id: 'unknown', org_id: '', action: 'privacy.export', result: 'unauthorized', subject_hash: '' })])
  })

  it('answers 403 to an analyst key on every privacy endpoint, counted with its key id', async () => {
    const responses = await Promise.all([
      app.request('/v1/privacy/export?user_id=alice', { headers: auth(keys.aAnalyst.key) }),
      post('erase', { user_id: 'alice' }, auth(keys.aAnalyst.key)),
      post('suppress', { anon_id: 'anon-a' }, auth(keys.aAnalyst.key)),
      post('unsuppress', { anon_id: 'anon-a' }, auth(keys.aAnalyst.key)),
      app.request('/v1/privacy/requests', { headers: auth(keys.aAnalyst.key) }),
    ])
    expect(responses.map((r) => r.status)).toEqual([403, 403, 403, 403, 403])
    expect(store.audits).toEqual([])
    const counted = refusals.drain(true)
    expect(counted.map((a) => [a.actor_key_id, a.org_id, a.result, a.subject_hash])).toEqual(Array(5).fill(['a-analyst', 'org-a', 'forbidden', '']))
    expect(store.events).toHaveLength(3)
    expect(store.suppressionRows).toEqual([])
  })

  it('lets privacy and admin keys in', async () => {
    for (const key of [keys.aPrivacy.key, keys.aAdmin.key]) {
      expect((await app.request('/v1/privacy/requests', { headers: auth(key) })).status).toBe(200)
    }
  })

  it('fails closed when the audit log cannot be written', async () => {
    store.failAudit = true
    const res = await app.request('/v1/privacy/requests', { headers: auth(keys.aPrivacy.key) })
    expect(res.status).toBe(500)
  })
})

describe('privacy API refused attempts', () => {
  /** A request from `ip` as the socket peer, as @hono/node-server binds it. */
  const from = (ip: string, path: string, init: RequestInit = {}) => app.request(`/v1/privacy/${path}`, init, { incoming: { socket: { remoteAddress: ip } } })
  /** A body that records whether anything pulled it: a refused call must never read it. */
  const watchedBody = (text: string) => {
    const state = { read: false }
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        state.read = true
        controller.enqueue(new TextEncoder().encode(text))
        controller.close()
      },
    }, { highWaterMark: 0 })
    return { state, init: { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(text.length) }, body, duplex: 'half' } as RequestInit }
  }

  it('checks the key before reading the body, and keeps no subject of a refused call', async () => {
    for (const headers of [{}, auth('sk_wrong'), auth(keys.aAnalyst.key)]) {
      const watched = watchedBody(JSON.stringify({ user_id: 'mallory-chosen-subject' }))
      const res = await from('203.0.113.9', 'erase', { ...watched.init, headers: { ...(watched.init.headers as Record<string, string>), ...headers } })
      expect([401, 403]).toContain(res.status)
      expect(watched.state.read).toBe(false)
    }
    // The watch itself works: an allowed call does read its body.
    const allowed = watchedBody(JSON.stringify({ anon_id: 'anon-a' }))
    const ok = await from('203.0.113.9', 'suppress', { ...allowed.init, headers: { ...(allowed.init.headers as Record<string, string>), ...auth(keys.aPrivacy.key) } })
    expect(ok.status).toBe(200)
    expect(allowed.state.read).toBe(true)
    store.audits = []
    await from('203.0.113.9', 'export?user_id=mallory-chosen-subject', { headers: auth('sk_wrong') })
    const rows = [...store.audits, ...refusals.drain(true)]
    expect(rows.every((r) => r.subject_hash === '')).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(subjectHash('mallory-chosen-subject'))
    expect(JSON.stringify(rows)).not.toContain('mallory')
  })

  it('answers 429 with Retry-After past the burst of refusals, per address, while a valid key elsewhere is served', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 35; i++) statuses.push((await from('198.51.100.7', 'requests', { headers: auth(`sk_guess_${i}`) })).status)
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401))
    expect(statuses.slice(30)).toEqual(Array(5).fill(429))
    const limited = await from('198.51.100.7', 'requests', { headers: auth(keys.aPrivacy.key) })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await limited.json()).toMatchObject({ error: 'rate_limited' })
    // Another address (a neighbour of the same /24 too: buckets are per address) is untouched.
    expect((await from('198.51.100.8', 'requests', { headers: auth(keys.aPrivacy.key) })).status).toBe(200)
    // A refill of one token lets one more attempt through.
    clock += 1_000
    expect((await from('198.51.100.7', 'requests', { headers: auth(keys.aPrivacy.key) })).status).toBe(200)
  })

  it('counts refusals per minute and address prefix (/24, /48), with no subject', async () => {
    for (let i = 0; i < 3; i++) await from('198.51.100.7', 'export?anon_id=x', { headers: auth('sk_wrong') })
    await from('198.51.100.200', 'export?anon_id=y', { headers: auth('sk_wrong') })
    await from('2001:db8:1234:5678::1', 'requests', {})
    clock += 60_000
    await from('198.51.100.7', 'export?anon_id=z', { headers: auth('sk_wrong') })
    const finished = refusals.drain()
    expect(finished.map((r) => ({ time: r.time, action: r.action, result: r.result, subject: r.subject_hash, detail: JSON.parse(r.detail) }))).toEqual([
      { time: '2026-11-28 12:00:00.000', action: 'privacy.export', result: 'unauthorized', subject: '', detail: { address_prefix: '198.51.100.0/24', attempts: 4, per: 'minute' } },
      { time: '2026-11-28 12:00:00.000', action: 'privacy.requests', result: 'unauthorized', subject: '', detail: { address_prefix: '2001:db8:1234::/48', attempts: 1, per: 'minute' } },
    ])
    // The current minute waits for its end (or for shutdown).
    expect(refusals.drain(true).map((r) => JSON.parse(r.detail).attempts)).toEqual([1])
    expect(store.audits).toEqual([])
  })
})

describe('privacy API within the key org', () => {
  it('exports a user as NDJSON matched by the org pseudonym, never another org rows', async () => {
    const res = await app.request('/v1/privacy/export?user_id=alice&org_id=org-b', { headers: auth(keys.aPrivacy.key) })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/x-ndjson')
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((e) => e.event_id)).toEqual(['a1'])
    expect(store.requests.at(-1)).toMatchObject({ org_id: 'org-a', kind: 'export', status: 'done', detail: JSON.stringify({ rows: 1 }) })
    expect(store.audits.at(-1)).toMatchObject({ actor_key_id: 'a-privacy', org_id: 'org-a', action: 'privacy.export', result: 'ok' })
  })

  it('exports an anon id as JSON with the subject', async () => {
    const res = await app.request('/v1/privacy/export?anon_id=anon-a&format=json', { headers: auth(keys.aPrivacy.key) })
    const body = (await res.json()) as { subject: unknown; events: { event_id: string }[] }
    expect(body.subject).toEqual({ kind: 'anon', anon_id: 'anon-a' })
    expect(body.events.map((e) => e.event_id)).toEqual(['a1', 'a2'])
  })

  it("asks the store for the key's org only, whatever the request names", async () => {
    expect((await app.request('/v1/privacy/export?anon_id=anon-b&org_id=org-b&format=json', { headers: auth(keys.aPrivacy.key) })).status).toBe(200)
    expect((await app.request('/v1/privacy/export?user_id=alice&org_id=org-b', { headers: auth(keys.aPrivacy.key) })).status).toBe(200)
    expect((await post('erase', { anon_id: 'anon-b', org_id: 'org-b' }, auth(keys.aPrivacy.key))).status).toBe(200)
    expect((await post('suppress', { user_id: 'alice', org_id: 'org-b' }, auth(keys.aPrivacy.key))).status).toBe(200)
    expect(new Set(store.calls.map((c) => c.op))).toEqual(new Set(['export', 'count', 'delete']))
    expect(store.calls.filter((c) => c.orgId !== 'org-a')).toEqual([])
    expect(store.suppressionRows.map((r) => r.org_id)).toEqual(['org-a', 'org-a'])
    expect(store.requests.every((r) => r.org_id === 'org-a')).toBe(true)
    expect(suppressions.has('org-b', 'anon', subjectHash('anon-b'))).toBe(false)
    expect(suppressions.has('org-a', 'anon', subjectHash('anon-b'))).toBe(true)
    expect(suppressions.has('org-b', 'user', pseudonymize('org-b', 'alice'))).toBe(false)
  })

  it('erases with a proof of 0, suppresses, records the request and audits the proof', async () => {
    const res = await post('erase', { user_id: 'alice' }, auth(keys.aPrivacy.key))
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ status: 'done', deleted: 1, remaining: 0, suppressed: true, subject_hash: subjectHash('alice') })
    expect(store.events.map((e) => e.event_id)).toEqual(['a2', 'b1'])
    const pid = pseudonymize('org-a', 'alice')
    expect(suppressions.has('org-a', 'user', pid)).toBe(true)
    expect(store.suppressionRows).toEqual([expect.objectContaining({ org_id: 'org-a', subject_kind: 'user', subject: pid, active: true })])
    expect(store.requests.map((r) => r.status)).toEqual(['running', 'done'])
    expect(store.audits.at(-1)).toMatchObject({ action: 'privacy.erase', result: 'ok', subject_hash: subjectHash('alice') })
    expect(JSON.parse(store.audits.at(-1)!.detail)).toMatchObject({ deleted: 1, remaining: 0 })
    // The raw id is nowhere in what was written.
    expect(JSON.stringify([store.audits, store.requests, store.suppressionRows])).not.toContain('alice')
  })

  it('suppresses and unsuppresses, in process at once', async () => {
    expect((await post('suppress', { anon_id: 'anon-a' }, auth(keys.aPrivacy.key))).status).toBe(200)
    expect(suppressions.suppresses({ org_id: 'org-a', user_pid: '', anon_id: 'anon-a' })).toBe(true)
    expect((await post('unsuppress', { anon_id: 'anon-a' }, auth(keys.aPrivacy.key))).status).toBe(200)
    expect(suppressions.suppresses({ org_id: 'org-a', user_pid: '', anon_id: 'anon-a' })).toBe(false)
    const versions = store.suppressionRows.map((r) => r.version)
    expect(versions[1]).toBeGreaterThan(versions[0]!)
  })

  it("lists only the key org's requests, latest status each", async () => {
    await post('suppress', { anon_id: 'anon-a' }, auth(keys.aPrivacy.key))
    await post('suppress', { anon_id: 'anon-b' }, auth(keys.bPrivacy.key))
    const res = await app.request('/v1/privacy/requests?org_id=org-b', { headers: auth(keys.aPrivacy.key) })
    const body = (await res.json()) as { org_id: string; requests: { kind: string; status: string }[] }
    expect(body.org_id).toBe('org-a')
    expect(body.requests).toEqual([expect.objectContaining({ kind: 'suppress', status: 'done', subject_hash: subjectHash('anon-a') })])
  })
})

describe('privacy API validation', () => {
  it.each([
    ['no subject', 'erase', {}],
    ['both subjects', 'erase', { user_id: 'u', anon_id: 'a' }],
    ['an empty id', 'suppress', { user_id: '' }],
    ['a non-string id', 'unsuppress', { anon_id: 42 }],
  ])('answers 400 with a reason for %s, audited as invalid', async (_name, path, body) => {
    const res = await post(path, body, auth(keys.aPrivacy.key))
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request', message: expect.any(String) })
    expect(store.audits.at(-1)).toMatchObject({ result: 'invalid', actor_key_id: 'a-privacy' })
  })

  it('answers 400 for a bad export format and for a non-JSON body', async () => {
    expect((await app.request('/v1/privacy/export?user_id=a&format=xml', { headers: auth(keys.aPrivacy.key) })).status).toBe(400)
    const res = await app.request('/v1/privacy/erase', { method: 'POST', headers: { ...auth(keys.aPrivacy.key), 'content-type': 'text/plain' }, body: 'user_id=a' })
    expect(res.status).toBe(400)
  })

  it('answers 413 for an oversized body, audited', async () => {
    const res = await post('erase', { user_id: 'u', pad: 'x'.repeat(20_000) }, auth(keys.aPrivacy.key))
    expect(res.status).toBe(413)
    expect(store.audits.at(-1)).toMatchObject({ result: 'invalid', action: 'privacy.erase' })
  })
})
