import type { Admin } from 'kafkajs'
import type { Gauge } from 'prom-client'
import type { Logger } from '../logger.js'

export interface KafkaHealthOptions {
  /** A topic whose metadata is asked for: the cheapest request that needs a live broker. */
  topic: string
  intervalMs: number
  /** A probe not answered within this long counts as a failure. */
  timeoutMs: number
  logger: Logger
  /** 1 while the broker answers, 0 while it does not. */
  gauge?: Gauge
}

/**
 * Probes the broker every interval so /readyz drops while Kafka is unreachable even when no
 * request is failing (an idle ingest, a processor whose partitions are all paused).
 * Its admin client should have no retries of its own: the interval is the retry.
 */
export class KafkaHealth {
  /** Undefined until the first probe answers, so start-up logs no "again". */
  private ok: boolean | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false
  private connected = false

  constructor(
    private readonly admin: Admin,
    private readonly options: KafkaHealthOptions,
  ) {}

  ready(): boolean {
    return this.ok === true
  }

  /** Probes once now (so readiness is known at start), then keeps probing until stop(). */
  async start(): Promise<void> {
    await this.probe()
    this.schedule()
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.admin.disconnect().catch(() => {})
  }

  private schedule(): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.probe().finally(() => this.schedule()), this.options.intervalMs)
    // Readiness bookkeeping must never keep a stopping process alive.
    this.timer.unref()
  }

  private async probe(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs)
    })
    try {
      await Promise.race([this.request(), deadline])
      this.set(true)
    } catch (err) {
      this.set(false, err)
    } finally {
      clearTimeout(timer)
    }
  }

  private async request(): Promise<void> {
    if (!this.connected) {
      await this.admin.connect()
      this.connected = true
    }
    await this.admin.fetchTopicMetadata({ topics: [this.options.topic] })
  }

  private set(ok: boolean, err?: unknown): void {
    this.options.gauge?.set(ok ? 1 : 0)
    if (ok === this.ok) return
    const first = this.ok === undefined
    this.ok = ok
    if (ok && first) return
    if (ok) this.options.logger.info({ topic: this.options.topic }, 'Kafka reachable again')
    else this.options.logger.warn({ reason: (err as Error | undefined)?.message }, 'Kafka unreachable: not ready')
  }
}
