import { BusUnavailableError, type Bus } from '@atspark/ingest'
import type { Envelope, EventRow } from '@atspark/schemas'
import type { BatchingWriter } from './batching-writer.js'

/**
 * The embedded default's bus: an in-process hand-off to the processor. `publish` resolves only
 * when the warehouse has the rows, which is what lets ingest answer 2xx.
 */
export class EmbeddedBus implements Bus {
  constructor(
    private readonly toRows: (envelope: Envelope) => EventRow[],
    private readonly writer: BatchingWriter<EventRow>,
  ) {}

  async publish(envelopes: readonly Envelope[]): Promise<void> {
    const rows = envelopes.flatMap((e) => this.toRows(e))
    try {
      await this.writer.add(rows)
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
