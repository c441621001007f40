import { type BatchingWriter, type Bus, BusUnavailableError, IngestError } from '@atspark/runtime'
import type { BusMessage } from '@atspark/schemas'
import type { WarehouseRecord } from '@atspark/warehouse'

/**
 * The embedded default's bus: an in-process hand-off to the processor. `publish` resolves only
 * when the warehouse has the rows, which is what lets ingest answer 2xx.
 */
export class EmbeddedBus implements Bus {
  constructor(
    private readonly toRecords: (message: BusMessage) => WarehouseRecord[],
    private readonly writer: BatchingWriter<WarehouseRecord>,
    /** Whether warehouse writes work right now (WriteHealth); readiness drops while they fail. */
    private readonly health: { ok(): boolean } = { ok: () => true },
  ) {}

  async publish(messages: readonly BusMessage[]): Promise<void> {
    const records = messages.flatMap((m) => this.toRecords(m))
    const first = messages[0]
    try {
      // Keyed by site, so one site holds at most its share of the queue.
      await this.writer.add(records, first ? `${first.org_id}/${first.site_id}` : undefined)
    } catch (err) {
      // Backpressure and shutdown keep their own codes (and 503 + Retry-After); anything else is the warehouse failing.
      if (err instanceof IngestError) throw err
      throw new BusUnavailableError('the warehouse did not take the batch', { cause: err })
    }
  }

  ready(): boolean {
    return !this.writer.isClosed && this.health.ok()
  }

  close(): Promise<void> {
    return this.writer.drain()
  }
}
