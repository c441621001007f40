import type { Envelope } from '@atspark/schemas'

/**
 * Where ingest hands accepted batches. `publish` resolves only when the envelopes are durable
 * (Kafka acked, or written by the embedded processor); it rejects with BusUnavailableError otherwise.
 */
export interface Bus {
  publish(envelopes: readonly Envelope[]): Promise<void>
  /** False while the bus cannot accept writes; drives /readyz. */
  ready(): boolean
  close(): Promise<void>
}
