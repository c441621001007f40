import type { Message } from 'kafkajs'

/** Fields an older producer may have put a plain client address in; the DLQ must not keep it. */
const PLAIN_IP_FIELDS = ['ip'] as const

/**
 * The bytes kept for replay, minus any plain client address: a message from a producer that
 * predates sealed IPs is poison here, and its DLQ copy must not become a store of raw IPs.
 */
export function scrubForDlq(value: Buffer | null): { value: Buffer | null; removed: string[] } {
  if (!value) return { value, removed: [] }
  let json: unknown
  try {
    json = JSON.parse(value.toString('utf8'))
  } catch {
    return { value, removed: [] }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { value, removed: [] }
  const record = json as Record<string, unknown>
  const removed = PLAIN_IP_FIELDS.filter((field) => Object.hasOwn(record, field))
  if (removed.length === 0) return { value, removed }
  for (const field of removed) delete record[field]
  return { value: Buffer.from(JSON.stringify(record), 'utf8'), removed }
}

/** One DLQ record: where the message came from, why it was refused, and its bytes for replay. */
export function dlqMessage(source: { topic: string; partition: number; offset: string; value: Buffer | null }, reason: string): Message {
  const { value, removed } = scrubForDlq(source.value)
  return {
    key: `${source.topic}:${source.partition}:${source.offset}`,
    value: JSON.stringify({
      reason,
      source: { topic: source.topic, partition: source.partition, offset: source.offset },
      failed_at: new Date().toISOString(),
      value_base64: value?.toString('base64') ?? null,
      ...(removed.length ? { removed_fields: removed } : {}),
    }),
    headers: { reason },
  }
}
