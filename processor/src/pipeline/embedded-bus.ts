import { type BatchingWriter, type Bus, BusUnavailableError } from '@atspark/ingest'
import type { BusMessage } from '@atspark/schemas'
import type { WarehouseRecord } from '../warehouse/record-writer.js'

/**
 * The embedded default's bus: an in-process hand-off to the processor. `publish` resolves only
 * when the warehouse has the rows, which is what lets ingest answer 2xx.
 */
export class EmbeddedBus implements Bus {
  constructor(
    private readonly toRecords: (message: BusMessage) => WarehouseRecord[],
    private readonly writer: BatchingWriter<WarehouseRecord>,
  ) {}

  async publish(messages: readonly BusMessage[]): Promise<void> {
    const records = messages.flatMap((m) => this.toRecords(m))
    try {
      await this.writer.add(records)
    } catch (err) {
      throw new BusUnavailableError('the warehouse did not take the batch', { cause: err })
    }
  }

  ready(): boolean {
    return !this.writer.isClosed
  }

  close(): Promise<void> {
    return this.writer.drain()
  }
}
