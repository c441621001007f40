import { randomUUID } from 'node:crypto'
import { sealedIpKeyId } from '@atspark/runtime'
import { SealedIp } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { type IHeaders, Kafka, type KafkaMessage, logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { batch, event, post, sendLoad } from './support/batches.js'
import { type Distributed, generateIpKeys, sealTestIp, startDistributed, TEST_ORIGIN, WRITE_KEYS } from './support/distributed.js'
import { openWarehouse, rows } from './support/warehouse.js'

// Public addresses with known countries in the shipped CC0 database, sent through a trusted (loopback) proxy.
const SENTINEL = { v4: '8.8.8.8', v6: '2001:4860:4860::8888', mapped: '::ffff:81.2.69.142' } as const
/** Every textual spelling of the sentinels: compressed, expanded, zero-padded, mapped (dotted and hex), embedded IPv4. */
const FORBIDDEN = [
  '8.8.8.8',
  '2001:4860:4860::8888',
  '2001:4860:4860:0:0:0:0:8888',
  '2001:4860:4860:0000:0000:0000:0000:8888',
  '::ffff:81.2.69.142',
  '0:0:0:0:0:ffff:81.2.69.142',
  '::ffff:5102:458e',
  '0:0:0:0:0:ffff:5102:458e',
  '0000:0000:0000:0000:0000:ffff:5102:458e',
  '81.2.69.142',
]
/** The same addresses as network-order bytes, for binary payloads. */
const FORBIDDEN_BYTES = [Buffer.from([8, 8, 8, 8]), Buffer.from('20014860486000000000000000008888', 'hex'), Buffer.from([81, 2, 69, 142])]

const brokers = () => inject('kafkaBrokers')

/** Hits of any spelling of a sentinel in `text`, case-insensitively, also inside base64-looking strings it holds. */
function sentinelHits(text: string): string[] {
  const expanded = [text, ...decodedBase64Strings(text)].join('\n').toLowerCase()
  return FORBIDDEN.filter((needle) => expanded.includes(needle))
}

/** Decodes every quoted string that could be base64 (e.g. the DLQ's value_base64), so an encoded address is found too. */
function decodedBase64Strings(text: string): string[] {
  const out: string[] = []
  for (const [, s] of text.matchAll(/"([A-Za-z0-9+/_-]{12,}={0,2})"/g)) {
    const bytes = Buffer.from(s!, 'base64')
    out.push(bytes.toString('latin1'))
  }
  return out
}

interface Dumped {
  topic: string
  message: KafkaMessage
}

/** Every message of `topic` from the beginning to its current end, read with a throwaway group. */
async function dumpTopic(kafka: Kafka, topic: string): Promise<Dumped[]> {
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
  const last = new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high) - 1n]))
  const out: Dumped[] = []
  if (last.size === 0) return out
  const done = new Set<number>()
  let lastSeen = Date.now()
  const consumer = kafka.consumer({ groupId: `atspark-test-dump-${randomUUID()}`, maxWaitTimeInMs: 200 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      out.push({ topic, message })
      lastSeen = Date.now()
      if (BigInt(message.offset) >= (last.get(partition) ?? 0n)) done.add(partition)
    },
  })
  // Compacted internal topics may have no record at high-1: stop after a quiet spell instead.
  const deadline = Date.now() + 60_000
  while (done.size < last.size && Date.now() < deadline && Date.now() - lastSeen < 5_000) await new Promise((r) => setTimeout(r, 100))
  await consumer.disconnect()
  return out
}

function messageText(m: KafkaMessage): string {
  const headers = Object.entries(m.headers ?? ({} as IHeaders)).map(([k, v]) => `${k}=${String(v)}`)
  return [m.key?.toString('utf8') ?? '', m.value?.toString('utf8') ?? '', ...headers].join('\n')
}

/** True when every bit after the prefix length is zero: `8.8.8.0/24` yes, `8.8.8.8/24` no. */
function lowBitsZero(cidr: string): boolean {
  const [addr, bitsText] = cidr.split('/') as [string, string]
  const bits = Number(bitsText)
  let value: bigint
  let width: number
  if (addr.includes(':')) {
    const [head, tail] = addr.split('::') as [string, string | undefined]
    const h = head ? head.split(':') : []
    const t = tail ? tail.split(':') : []
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
    value = groups.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n)
    width = 128
  } else {
    value = addr.split('.').reduce((acc, o) => (acc << 8n) | BigInt(o), 0n)
    width = 32
  }
  return (value & ((1n << BigInt(width - bits)) - 1n)) === 0n
}

describe('sealed IPs: no raw address anywhere, with Kafka', () => {
  let d: Distributed
  let warehouse: ClickHouseClient
  let topicsBefore: Set<string>
  const sent = { v4: event({ uid: 'user-sentinel' }), v6: event(), mapped: event() }
  const injected = { unknownKid: event(), otherTenant: event(), legacy: event() }
  const statuses: Record<string, number> = {}
  const dlq: { reason: string; value_base64: string | null; removed_fields?: string[] }[] = []
  const dumps: Dumped[] = []
  const logs: Record<string, string> = {}
  let warehouseDump = ''
  const tables: string[] = []

  beforeAll(async () => {
    const kafka = new Kafka({ clientId: 'atspark-test-topics', brokers: brokers().split(','), logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    topicsBefore = new Set(await admin.listTopics())
    // Trace logs: every line either service would ever write is in the haystack.
    d = await startDistributed(brokers(), { LOG_LEVEL: 'trace' }, { ingestEnv: { TRUSTED_PROXIES: 'loopback', LOG_LEVEL: 'trace' } })
    const send = async (label: string, body: unknown, xff: string, origin = TEST_ORIGIN) => {
      const res = await post(d.ingestUrl, body, { origin, headers: { 'x-forwarded-for': xff } })
      statuses[label] = res.status
      await res.arrayBuffer()
    }
    await send('v4', batch([sent.v4], { k: WRITE_KEYS.a }), SENTINEL.v4)
    await send('v6', batch([sent.v6], { k: WRITE_KEYS.a }), SENTINEL.v6)
    await send('mapped', batch([sent.mapped], { k: WRITE_KEYS.b }), SENTINEL.mapped)
    // Refused requests carrying a sentinel must not log it either.
    await send('bad origin', batch([event()], { k: WRITE_KEYS.a }), SENTINEL.v4, 'https://evil.example')
    await send('malformed', '{"v":1,', SENTINEL.v6)
    const receipt = await fetch(`${d.ingestUrl}/v1/consent`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: TEST_ORIGIN, 'x-forwarded-for': SENTINEL.mapped },
      body: JSON.stringify({ v: 1, k: WRITE_KEYS.a, id: randomUUID(), ts: Date.now(), sa: Date.now(), a: true, p: true, src: 'banner', r: '1' }),
    })
    statuses.receipt = receipt.status

    // Straight to the raw topic: IPs no key of the processor's opens, or sealed for another tenant, and a pre-sealing envelope.
    const envelope = (e: ReturnType<typeof event>, fields: Record<string, string>) =>
      JSON.stringify({ v: 1, kind: 'events', org_id: 'org-a', site_id: 'web', received_at: Date.now(), sent_at: Date.now(), ua: 'UA', events: [e], ...fields })
    const producer = d.kafka.producer()
    await producer.connect()
    await producer.send({
      topic: d.rawTopic,
      acks: -1,
      messages: [
        { key: 'x', value: envelope(injected.unknownKid, { ip_sealed: sealTestIp(generateIpKeys('rogue'), SENTINEL.v4, 'org-a', 'web') }) },
        { key: 'x', value: envelope(injected.otherTenant, { ip_sealed: d.sealIp(SENTINEL.v6, 'org-b', 'web') }) },
        { key: 'x', value: envelope(injected.legacy, { ip: '198.51.100.23' }) },
      ],
    })
    await producer.disconnect()
    await d.waitDrained()

    const topicsAfter = await admin.listTopics()
    await admin.disconnect()
    const created = topicsAfter.filter((t) => !topicsBefore.has(t))
    expect(created).toEqual(expect.arrayContaining([d.rawTopic, d.dlqTopic]))
    // The offsets topic holds the processor's commit metadata: dumped too, though it is shared.
    for (const topic of [...created, '__consumer_offsets']) dumps.push(...(await dumpTopic(d.kafka, topic)))
    for (const { topic, message } of dumps) if (topic === d.dlqTopic) dlq.push(JSON.parse(message.value!.toString('utf8')))

    await d.ingest.stop()
    expect(await d.processor.stop()).toBe(0)
    logs.ingest = d.ingest.output()
    logs.processor = d.processor.output()
    warehouse = openWarehouse(d.dataDir)
    for (const { name } of await rows<{ name: string }>(warehouse, "SELECT name FROM system.tables WHERE database = 'atspark' ORDER BY name")) {
      tables.push(name)
      warehouseDump += `\n${name}\n${JSON.stringify(await rows(warehouse, `SELECT * FROM atspark.\`${name}\``))}`
    }
  })

  afterAll(async () => {
    await warehouse?.close()
    await d?.stopAll()
  })

  async function row(id: string) {
    const [found] = await rows<{ country: string; ip_prefix: string; org_id: string }>(warehouse, `SELECT country, ip_prefix, org_id FROM atspark.events WHERE event_id = '${id}'`)
    return found
  }

  it('accepted the sentinel batches and refused the bad ones', () => {
    expect(statuses).toEqual({ v4: 202, v6: 202, mapped: 202, 'bad origin': 403, malformed: 400, receipt: 202 })
  })

  it('put only sealed IPs on the raw topic', () => {
    const raw = dumps.filter((x) => x.topic === d.rawTopic).map((x) => JSON.parse(x.message.value!.toString('utf8')) as Record<string, unknown>)
    const fromIngest = raw.filter((m) => m.kind === 'events' && (m.events as { id: string }[]).some((e) => Object.values(sent).some((s) => s.id === e.id)))
    expect(fromIngest).toHaveLength(3)
    for (const m of fromIngest) {
      expect(m).not.toHaveProperty('ip')
      expect(SealedIp.safeParse(m.ip_sealed).success).toBe(true)
      expect(sealedIpKeyId(m.ip_sealed as string)).toBe(d.ipKeys.ingest.active)
    }
  })

  it('stored the right countries and prefixes with the low bits zero', async () => {
    expect(await row(sent.v4.id)).toEqual({ country: 'US', ip_prefix: '8.8.8.0/24', org_id: 'org-a' })
    expect(await row(sent.v6.id)).toEqual({ country: 'US', ip_prefix: '2001:4860:4860::/48', org_id: 'org-a' })
    expect(await row(sent.mapped.id)).toEqual({ country: 'GB', ip_prefix: '81.2.69.0/24', org_id: 'org-b' })
    const prefixes = await rows<{ ip_prefix: string }>(warehouse, "SELECT DISTINCT ip_prefix FROM atspark.events WHERE ip_prefix != ''")
    expect(prefixes.length).toBeGreaterThanOrEqual(3)
    for (const { ip_prefix } of prefixes) expect(lowBitsZero(ip_prefix), ip_prefix).toBe(true)
    expect(lowBitsZero('8.8.8.8/24')).toBe(false)
  })

  it('sent IPs it cannot open to the DLQ with the reason, and kept none of them', async () => {
    expect(dlq.map((r) => r.reason).sort()).toEqual([
      'cannot open sealed IP: authentication failed',
      'cannot open sealed IP: unknown key id "rogue"',
      expect.stringMatching(/^schema: /),
    ])
    const legacy = dlq.find((r) => r.reason.startsWith('schema: '))!
    expect(legacy.removed_fields).toEqual(['ip'])
    expect(Buffer.from(legacy.value_base64!, 'base64').toString('utf8')).not.toContain('198.51.100.23')
    for (const e of Object.values(injected)) expect(await row(e.id)).toBeUndefined()
  })

  it('left no spelling of a sentinel in any Kafka topic of the test', () => {
    expect(dumps.length).toBeGreaterThan(6)
    const ownTopics = new Set([d.rawTopic, d.dlqTopic])
    for (const { topic, message } of dumps) {
      expect(sentinelHits(messageText(message)), `${topic} offset ${message.offset}`).toEqual([])
      if (!ownTopics.has(topic)) continue
      for (const bytes of FORBIDDEN_BYTES) expect(message.value?.includes(bytes), `${topic} offset ${message.offset}`).toBe(false)
    }
  })

  it('left no spelling of a sentinel in any column of any warehouse table', () => {
    expect(tables).toEqual(expect.arrayContaining(['events', 'consent_log']))
    expect(warehouseDump).toContain(sent.v4.id)
    expect(sentinelHits(warehouseDump)).toEqual([])
    expect(warehouseDump).not.toContain('user-sentinel')
  })

  it('left no spelling of a sentinel in the ingest or processor logs', () => {
    expect(logs.ingest).toContain('IP keys loaded')
    expect(logs.processor).toContain('poison messages sent to the DLQ')
    expect(sentinelHits(logs.ingest!)).toEqual([])
    expect(sentinelHits(logs.processor!)).toEqual([])
    for (const key of Object.values(d.ipKeys.ingest.keys)) expect(`${logs.ingest}${logs.processor}`).not.toContain(key)
  })
})

describe('rotating the IP key while events flow', () => {
  let d: Distributed
  let warehouse: ClickHouseClient

  afterAll(async () => {
    await warehouse?.close()
    await d?.stopAll()
  })

  it('loses nothing: every 202 is stored, nothing reaches the DLQ, both keys were used', async () => {
    const keys = generateIpKeys('A', 'B')
    const only = (...kids: string[]) => ({ active: kids[0]!, keys: Object.fromEntries(kids.map((k) => [k, keys.keys[k]!])) })
    d = await startDistributed(brokers(), {}, { ipKeys: { ingest: only('A'), processor: only('A') } })
    const load = sendLoad(d.ingestUrl, 6_000, { batchSize: 10, concurrency: 4, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN, pauseMs: 10 })
    const timeline: string[] = []
    await new Promise((r) => setTimeout(r, 800))
    // The documented order: every processor learns B first, then ingest starts sealing with it.
    await d.setIpKeys('processor', only('A', 'B'))
    timeline.push(`processor holds A,B at ${Date.now()}`)
    await new Promise((r) => setTimeout(r, 500))
    await d.setIpKeys('ingest', only('B', 'A'))
    timeline.push(`ingest seals with B at ${Date.now()}`)
    const result = await load
    const loadEnded = Date.now()
    expect([...result.statuses.keys()]).toEqual([202])
    expect(result.acked).toHaveLength(6_000)
    await d.waitDrained()

    const kafka = d.kafka
    const raw = await dumpTopic(kafka, d.rawTopic)
    const kids = new Map<string, number>()
    for (const { message } of raw) {
      const kid = sealedIpKeyId(JSON.parse(message.value!.toString('utf8')).ip_sealed) ?? '?'
      kids.set(kid, (kids.get(kid) ?? 0) + 1)
    }
    // The switch happened mid-flow: both keys sealed part of the load.
    expect(kids.get('A'), timeline.join('; ')).toBeGreaterThan(0)
    expect(kids.get('B'), `${timeline.join('; ')}; load ended ${loadEnded}`).toBeGreaterThan(0)
    expect(kids.get('?')).toBeUndefined()
    const admin = kafka.admin()
    await admin.connect()
    const dlqEnds = await admin.fetchTopicOffsets(d.dlqTopic)
    await admin.disconnect()
    expect(dlqEnds.map((p) => p.high)).toEqual(dlqEnds.map(() => '0'))

    expect(await d.processor.stop()).toBe(0)
    expect(d.processor.output()).not.toContain('cannot open sealed IP')
    warehouse = openWarehouse(d.dataDir)
    const [counts] = await rows<{ n: string; u: string; located: string }>(
      warehouse,
      "SELECT count() AS n, uniqExact(event_id) AS u, countIf(ip_prefix = '127.0.0.0/24') AS located FROM atspark.events",
    )
    // Loopback is the peer here (no trusted proxy): every row still got its prefix from the opened IP.
    expect(counts).toEqual({ n: '6000', u: '6000', located: '6000' })
    console.log(`IP key rotation under load: ${kids.get('A')} batches sealed with A, ${kids.get('B')} with B, 6000/6000 stored, DLQ empty`)
  })
})
