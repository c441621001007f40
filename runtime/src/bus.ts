import type { BusMessage } from '@atspark/schemas'

/**
 * Where ingest hands accepted batches and receipts. `publish` resolves only when they are durable
 * (Kafka acked, or written by the embedded processor); it rejects with BusUnavailableError otherwise.
 */
export interface Bus {
  publish(messages: readonly BusMessage[]): Promise<void>
  /** The bus sends JSON text (Kafka): ingest then assembles envelopes from the request's bytes (bus-json.ts). */
  readonly sendsJson?: boolean
  /** False while the bus cannot accept writes; drives /readyz. */
  ready(): boolean
  close(): Promise<void>
}
