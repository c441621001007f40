import { type BusMessage, messageKey } from '@atspark/schemas'
import type { Message, Producer } from 'kafkajs'
import { BatchingWriter, type Bus, BusUnavailableError, IngestError } from '@atspark/runtime'
import { busJson } from '../bus-json.js'
import type { IngestMetrics } from '../metrics.js'

export interface KafkaBusOptions {
  topic: string
  lingerMs: number
  maxBatchMessages: number
  maxQueuedMessages: number
  /** No publish waits longer than this; past it the caller gets 503, never a hang. */
  timeoutMs: number
  /** Fairness: messages one site may have queued (a share of maxQueuedMessages); unset: no per-site cap. */
  maxQueuedPerSite?: number
  /** Batch sizes and failed sends. */
  metrics?: Pick<IngestMetrics, 'busBatchItems' | 'busWriteFailures'>
  /** The broker probe (KafkaHealth): readiness drops while the broker does not answer, traffic or not. */
  health?: { ready(): boolean }
}

/** A message and when its publish gives up (performance.now() ms): a send waits no longer than its last caller. */
interface Outgoing {
  message: Message
  deadline: number
}

/**
 * The distributed bus: messages from concurrent requests are produced together (one send in
 * flight, so per-key order holds), acks=all, and each publish resolves only with the ack.
 * Every publish answers within `timeoutMs` of its start, time queued behind a failing send included.
 */
export class KafkaBus implements Bus {
  readonly sendsJson = true
  private readonly writer: BatchingWriter<Outgoing>
  private lastFailure = 0
  private lastSuccess = 0

  constructor(
    private readonly producer: Producer,
    private readonly options: KafkaBusOptions,
  ) {
    const { metrics } = options
    this.writer = new BatchingWriter((messages) => this.send(messages), {
      maxItems: options.maxBatchMessages,
      lingerMs: options.lingerMs,
      maxQueuedItems: options.maxQueuedMessages,
      ...(options.maxQueuedPerSite === undefined ? {} : { maxQueuedPerKey: options.maxQueuedPerSite }),
      onWrite: ({ items, ok }) => {
        metrics?.busBatchItems.observe(items)
        if (!ok) metrics?.busWriteFailures.inc()
      },
    })
  }

  /** Messages accepted and not yet acknowledged. */
  get queued(): number {
    return this.writer.queuedItems
  }

  async publish(messages: readonly BusMessage[]): Promise<void> {
    const first = messages[0]
    const site = first ? `${first.org_id}/${first.site_id}` : undefined
    const { timeoutMs } = this.options
    // The clock starts now, not when a send picks the messages up: a send ahead of them may be failing slowly.
    const deadline = performance.now() + timeoutMs
    const written = this.writer.add(
      messages.map((m) => ({ message: { key: messageKey(m), value: busJson(m) }, deadline })),
      site,
    )
    // Settles after an answer given at the deadline: nobody is left to tell.
    written.catch(() => {})
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`produce not acknowledged within ${timeoutMs} ms of the publish`)), timeoutMs)
    })
    try {
      await Promise.race([written, expired])
    } catch (err) {
      // Not acknowledged in time is a failed produce, whichever timer fired first.
      this.lastFailure = Date.now()
      throw err instanceof IngestError ? err : new BusUnavailableError('Kafka did not acknowledge the batch', { cause: err })
    } finally {
      clearTimeout(timer)
    }
  }

  /** Ready unless closing, the broker probe fails, or the last produce failed and none succeeded since. */
  ready(): boolean {
    return !this.writer.isClosed && this.lastSuccess >= this.lastFailure && (this.options.health?.ready() ?? true)
  }

  async close(): Promise<void> {
    await this.writer.drain()
    await this.producer.disconnect()
  }

  private async send(outgoing: Outgoing[]): Promise<void> {
    const now = performance.now()
    const messages = outgoing.map((o) => o.message)
    let latest = now
    for (const o of outgoing) latest = Math.max(latest, o.deadline)
    // No longer than the last caller in this send still waits, so the sends queued behind it are not held up further.
    // Every message is still sent: skipping one whose caller timed out would resolve that caller as written if it settled first.
    const waitMs = Math.max(1, Math.ceil(latest - now))
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`produce not acknowledged within ${waitMs} ms`)), waitMs)
    })
    try {
      await Promise.race([this.producer.send({ topic: this.options.topic, acks: -1, timeout: waitMs, messages }), deadline])
      this.lastSuccess = Date.now()
    } catch (err) {
      this.lastFailure = Date.now()
      throw err
    } finally {
      clearTimeout(timer)
    }
  }
}
