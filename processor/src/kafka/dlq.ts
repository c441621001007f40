import type { Message } from 'kafkajs'

/** One DLQ record: where the message came from, why it was refused, and its bytes for replay. */
export function dlqMessage(source: { topic: string; partition: number; offset: string; value: Buffer | null }, reason: string): Message {
  return {
    key: `${source.topic}:${source.partition}:${source.offset}`,
    value: JSON.stringify({
      reason,
      source: { topic: source.topic, partition: source.partition, offset: source.offset },
      failed_at: new Date().toISOString(),
      value_base64: source.value?.toString('base64') ?? null,
    }),
    headers: { reason },
  }
}
