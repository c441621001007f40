import type { BusMessage } from '@atspark/schemas'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { beforeEach, describe, expect, it } from 'vitest'
import { createIngestApp } from './app.js'
import { type Bus, compileTrust, createLogger, TenantDirectory } from '@atspark/runtime'
import { busJson, topLevelArrayText } from './bus-json.js'
import { createIngestMetrics } from './metrics.js'
import { TEST_IP_KEYRING, wireBatch, wireEvent } from './test-fixtures.js'

describe('topLevelArrayText', () => {
  it('finds the array whatever surrounds it', () => {
    expect(topLevelArrayText('{"k":"x","e":[1,2]}', 'e')).toBe('[1,2]')
    expect(topLevelArrayText(' { "e" : [ {"a":[[]]} , "]\\"[" ] , "z": {"e":[9]} } ', 'e')).toBe('[ {"a":[[]]} , "]\\"[" ]')
    expect(topLevelArrayText('{"s":"\\\\","e":["\\\\\\"]"]}', 'e')).toBe('["\\\\\\"]"]')
    expect(topLevelArrayText('{"e":[],"x":[1]}', 'e')).toBe('[]')
  })

  it('takes the last of duplicate keys, as JSON.parse does', () => {
    expect(topLevelArrayText('{"e":[1],"k":2,"e":[3]}', 'e')).toBe('[3]')
  })

  it('answers nothing when the text alone cannot say', () => {
    // "\u0065" parses as "e": a later escaped duplicate would win in JSON.parse, so escaped keys end the search.
    expect(topLevelArrayText('{"e":[1],"\\u0065":[2]}', 'e')).toBeUndefined()
    expect(topLevelArrayText('{"e":{"0":1}}', 'e')).toBeUndefined()
    expect(topLevelArrayText('{"c":{"e":[1]}}', 'e')).toBeUndefined()
    expect(topLevelArrayText('[{"e":[1]}]', 'e')).toBeUndefined()
    expect(topLevelArrayText('{"x":"e","y":[1]}', 'e')).toBeUndefined()
  })

  it('is, for any JSON object, either undefined or exactly what JSON.parse sees', () => {
    const member = fc.tuple(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('e', 'E', 'e ', '"e"', '\\e')), fc.jsonValue({ maxDepth: 4 }))
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), fc.array(fc.jsonValue({ maxDepth: 4 }), { maxLength: 5 }), fc.nat(6), fc.constantFrom(0, 1, 2), (members, events, at, indent) => {
        // Members written in order (duplicates and all), so the text can hold what a plain object cannot.
        const parts = members.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v, null, indent)}`)
        parts.splice(Math.min(at, parts.length), 0, `"e": ${JSON.stringify(events, null, indent)}`)
        const text = `{${parts.join(indent ? ',\n' : ',')}}`
        const parsed = JSON.parse(text) as { e?: unknown }
        const found = topLevelArrayText(text, 'e')
        if (found === undefined) {
          expect(members.some(([k]) => JSON.stringify(k).includes('\\')) || !Array.isArray(parsed.e)).toBe(true)
        } else expect(JSON.parse(found)).toEqual(parsed.e)
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('envelopes for a bus that sends JSON', () => {
  const ORIGIN = 'https://app.example.com'
  const tenants = TenantDirectory.from({
    orgs: [{ id: 'acme', name: 'Acme', sites: [{ id: 'web', write_key: 'pk_test_site', allowed_origins: [ORIGIN], consent_mode: 'opt-out' }] }],
  })
  let sent: { message: BusMessage; json: string }[]
  let app: ReturnType<typeof createIngestApp>

  beforeEach(() => {
    sent = []
    const bus: Bus = {
      sendsJson: true,
      publish: async (messages) => {
        for (const message of messages) sent.push({ message, json: busJson(message) })
      },
      ready: () => true,
      close: async () => {},
    }
    app = createIngestApp({
      tenants: () => tenants,
      bus,
      trust: compileTrust([]),
      ipKeyring: () => TEST_IP_KEYRING,
      metrics: createIngestMetrics(new Registry()),
      logger: createLogger('ingest-test', 'silent'),
      now: () => Date.UTC(2026, 10, 28, 12, 0, 5),
    })
  })

  const post = (body: string, headers: Record<string, string> = {}) =>
    app.request('/v1/batch', { method: 'POST', headers: { 'content-type': 'application/json', origin: ORIGIN, ...headers }, body }, { incoming: { socket: { remoteAddress: '203.0.113.9' } } })

  /** The JSON the bus sent, parsed, must be the envelope JSON.stringify would have sent. */
  const expectSameAsStringify = () => {
    expect(sent).toHaveLength(1)
    const { message, json } = sent[0]!
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(message)))
    return json
  }

  it("sends the request's bytes for events kept as they came", async () => {
    const batch = wireBatch({ e: [wireEvent(), wireEvent({ t: 'click', n: 'buy', p: { plan: 'pro "x" ]', n: 3 } })] })
    expect((await post(JSON.stringify(batch, null, 2))).status).toBe(202)
    const json = expectSameAsStringify()
    // The pretty-printed events went through as written: they were not re-serialized.
    expect(json).toContain('"events":[\n    {\n      "id"')
  })

  it('re-serializes when an event was refused, a lone surrogate replaced, or a key escaped', async () => {
    const good = wireEvent()
    expect((await post(JSON.stringify(wireBatch({ e: [good, wireEvent({ ts: 5 })] }), null, 1))).status).toBe(202)
    expect(JSON.parse(expectSameAsStringify()).events).toEqual([good])
    sent = []

    const text = JSON.stringify(wireBatch({ e: [wireEvent({ t: 'custom', n: 'x', p: { label: 'PLACEHOLDER' } })] }), null, 1).replace('PLACEHOLDER', 'cut \\ud83d')
    expect((await post(text)).status).toBe(202)
    expect(JSON.parse(expectSameAsStringify()).events[0].p).toEqual({ label: 'cut \uFFFD' })
    sent = []

    // A smuggled duplicate written with an escape: JSON.parse (and the checks) see the second array only.
    const real = wireEvent()
    const smuggled = JSON.stringify(wireBatch({ e: [{ not: 'checked' } as never] })).replace(/}$/, `,"\\u0065":${JSON.stringify([real])}}`)
    expect((await post(smuggled)).status).toBe(202)
    expect(JSON.parse(expectSameAsStringify()).events).toEqual([real])
  })
})
