import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { WireEvent } from '@atspark/schemas'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { type Distributed, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'

// Suppression and erasure on the Kafka path: the standalone processor serves the privacy API,
// drops suppressed subjects' events from the raw topic, and reloads suppressions after a restart.

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const KEY = `sk_${randomBytes(32).toString('base64url')}`

let d: Distributed

beforeAll(async () => {
  // The processor gets the same orgs and write keys as ingest's file, plus secrets and a privacy key.
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-privacy-kafka-')), 'tenants.json')
  const site = (key: string) => [{ id: 'web', write_key: key, allowed_origins: [TEST_ORIGIN], consent_mode: 'opt-out' }]
  writeFileSync(
    file,
    JSON.stringify({
      orgs: [
        { id: 'org-a', name: 'A', hmac_secret: randomBytes(32).toString('base64'), api_keys: [{ id: 'a-privacy', hash: sha256(KEY), role: 'privacy' }], sites: site(WRITE_KEYS.a) },
        { id: 'org-b', name: 'B', hmac_secret: randomBytes(32).toString('base64'), sites: site(WRITE_KEYS.b) },
      ],
    }),
  )
  d = await startDistributed(inject('kafkaBrokers'), { ATSPARK_TENANTS_FILE: file }, { withBackoffice: true })
})

afterAll(async () => {
  await d?.stopAll()
})

async function send(events: WireEvent[]): Promise<void> {
  const res = await post(d.ingestUrl, batch(events, { k: WRITE_KEYS.a }), { origin: TEST_ORIGIN })
  expect(res.status).toBe(202)
  await res.arrayBuffer()
  await d.waitDrained()
}

async function call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  return fetch(`${d.backofficeUrl}/v1/privacy/${path}`, {
    method,
    headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

async function exported(query: string): Promise<string[]> {
  const res = await call('GET', `export?${query}&format=json`)
  expect(res.status).toBe(200)
  return ((await res.json()) as { events: { event_id: string }[] }).events.map((e) => e.event_id).sort()
}

describe('privacy on the Kafka processor', () => {
  const kept = event({ a: 'anon_kafka' })
  const other = event({ a: 'anon_kafka_other' })

  it('drops a suppressed subject’s events from the topic, and keeps everyone else’s', async () => {
    await send([kept])
    expect((await call('POST', 'suppress', { anon_id: 'anon_kafka' })).status).toBe(200)
    await send([event({ a: 'anon_kafka' }), event({ a: 'anon_kafka' }), other])
    expect(await exported('anon_id=anon_kafka')).toEqual([kept.id])
    expect(await exported('anon_id=anon_kafka_other')).toEqual([other.id])
  })

  it('erases a user with a proof of 0, and keeps dropping them', async () => {
    await send([event({ uid: 'dave@a.example', a: 'anon_dave' }), event({ uid: 'dave@a.example', a: 'anon_dave' })])
    const res = await call('POST', 'erase', { user_id: 'dave@a.example' })
    expect(await res.json()).toMatchObject({ status: 'done', deleted: 2, remaining: 0 })
    await send([event({ uid: 'dave@a.example', a: 'anon_dave_2' })])
    expect(await exported(`user_id=${encodeURIComponent('dave@a.example')}`)).toEqual([])
  })

  it('loads suppressions from the warehouse after a restart, and lets the subject through once unsuppressed', async () => {
    expect(await d.processor.stop()).toBe(0)
    await d.restartProcessor()
    await send([event({ a: 'anon_kafka' }), event({ uid: 'dave@a.example' })])
    expect(await exported('anon_id=anon_kafka')).toEqual([kept.id])
    expect(await exported(`user_id=${encodeURIComponent('dave@a.example')}`)).toEqual([])
    expect((await call('POST', 'unsuppress', { anon_id: 'anon_kafka' })).status).toBe(200)
    const after = event({ a: 'anon_kafka' })
    await send([after])
    expect(await exported('anon_id=anon_kafka')).toEqual([kept.id, after.id].sort())
  })
})
