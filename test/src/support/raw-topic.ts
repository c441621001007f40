import type { BusMessage, WireEvent } from '@atspark/schemas'
import { CHROME_WINDOWS_UA } from './batches.js'
import type { Distributed } from './distributed.js'

/** An events envelope as ingest would put it on the raw topic for `orgId`'s site `web`, received at `receivedAt`. */
export function eventsEnvelope(d: Distributed, orgId: string, events: WireEvent[], receivedAt: number): BusMessage {
  return {
    v: 1,
    kind: 'events',
    org_id: orgId,
    site_id: 'web',
    received_at: receivedAt,
    sent_at: receivedAt,
    ip_sealed: d.sealIp('198.51.100.7', orgId, 'web'),
    ua: CHROME_WINDOWS_UA,
    events,
  }
}

/** Writes messages straight to the raw topic, each on the partition it names, acked by every replica. */
export async function produceRaw(d: Distributed, messages: readonly { partition: number; value: BusMessage }[]): Promise<void> {
  const producer = d.kafka.producer()
  await producer.connect()
  try {
    await producer.send({ topic: d.rawTopic, acks: -1, messages: messages.map((m) => ({ partition: m.partition, value: JSON.stringify(m.value) })) })
  } finally {
    await producer.disconnect()
  }
}

/** The processor group's committed offset and its metadata, per partition of the raw topic. */
export async function committedOffsets(d: Distributed): Promise<Map<number, { offset: string; metadata: string | null }>> {
  const admin = d.kafka.admin()
  await admin.connect()
  try {
    const [topic] = await admin.fetchOffsets({ groupId: d.groupId, topics: [d.rawTopic] })
    return new Map(topic?.partitions.map((p) => [p.partition, { offset: p.offset, metadata: p.metadata }]) ?? [])
  } finally {
    await admin.disconnect()
  }
}
