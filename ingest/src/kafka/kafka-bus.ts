import { type BusMessage, messageKey } from '@atspark/schemas'
import type { Message, Producer } from 'kafkajs'
import { BatchingWriter } from '../batching-writer.js'
import type { Bus } from '../bus.js'
import { BusUnavailableError, IngestError } from '../errors.js'

export interface KafkaBusOptions {
  topic: string
  lingerMs: number
  maxBatchMessages: number
  maxQueuedMessages: number
  /** No publish waits longer than this; past it the caller gets 503, never a hang. */
  timeoutMs: number
}

/**
 * The distributed bus: messages from concurrent requests are produced together (one send in
 * flight, so per-key order holds), acks=all, and each publish resolves only with the ack.
 */
export class KafkaBus implements Bus {
  private readonly writer: BatchingWriter<Message>
  private lastFailure = 0
  private lastSuccess = 0

  constructor(
    private readonly producer: Producer,
    private readonly options: KafkaBusOptions,
  ) {
    this.writer = new BatchingWriter((messages) => this.send(messages), {
      maxItems: options.maxBatchMessages,
      lingerMs: options.lingerMs,
      maxQueuedItems: options.maxQueuedMessages,
    })
  }

  async publish(messages: readonly BusMessage[]): Promise<void> {
    try {
      await this.writer.add(messages.map((m) => ({ key: messageKey(m), value: JSON.stringify(m) })))
    } catch (err) {
      throw err instanceof IngestError ? err : new BusUnavailableError('Kafka did not acknowledge the batch', { cause: err })
    }
  }

  /** Ready unless the last produce failed and none succeeded since. */
  ready(): boolean {
    return !this.writer.isClosed && this.lastSuccess >= this.lastFailure
  }

  async close(): Promise<void> {
    await this.writer.drain()
    await this.producer.disconnect()
  }

  private async send(messages: Message[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`produce not acknowledged within ${this.options.timeoutMs} ms`)), this.options.timeoutMs)
    })
    try {
      await Promise.race([this.producer.send({ topic: this.options.topic, acks: -1, timeout: this.options.timeoutMs, messages }), deadline])
      this.lastSuccess = Date.now()
    } catch (err) {
      this.lastFailure = Date.now()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }
}
