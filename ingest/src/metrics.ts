import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/**
 * Outcomes of `atspark_ingest_events_total`: every event of an authorized batch ends in exactly one,
 * so their sum equals `atspark_ingest_events_received_total`.
 */
export const EventOutcome = {
  accepted: 'accepted',
  /** Failed validation one by one (the rest of the batch still landed). */
  rejected: 'rejected',
  droppedConsent: 'dropped_consent',
  droppedDnt: 'dropped_dnt',
  droppedGpc: 'dropped_gpc',
  /** The site's write-key bucket was empty: 429, the SDK retries later. */
  droppedRateLimited: 'dropped_rate_limited',
  /** The bus did not take the batch (down, backpressure, shutting down): 503, the SDK retries later. */
  droppedUnavailable: 'dropped_unavailable',
} as const
export type EventOutcome = (typeof EventOutcome)[keyof typeof EventOutcome]

/** Ingest's metrics, on a registry of its own so several apps can live in one process (tests, embedded). */
export function createIngestMetrics(registry = new Registry()) {
  let queued: () => number = () => 0
  return {
    registry,
    eventsReceived: new Counter({
      name: 'atspark_ingest_events_received_total',
      help: 'Events in batches from a known write key and allowed origin, before any check; equals the sum of atspark_ingest_events_total',
      registers: [registry],
    }),
    events: new Counter({
      name: 'atspark_ingest_events_total',
      help: `Events by outcome (${Object.values(EventOutcome).join(', ')})`,
      // reason: the input error code of a rejected event (InputErrorCode); absent on the other outcomes.
      labelNames: ['outcome', 'reason'] as const,
      registers: [registry],
    }),
    receipts: new Counter({
      name: 'atspark_ingest_consent_receipts_total',
      help: 'Consent receipts accepted',
      registers: [registry],
    }),
    requests: new Counter({
      name: 'atspark_ingest_requests_total',
      help: 'POST /v1/batch and /v1/consent requests by status code and reason (accepted, or the error code of the answer)',
      labelNames: ['status', 'reason'] as const,
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'atspark_ingest_request_duration_seconds',
      help: 'Time from the request reaching ingest to its answer, by route',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'atspark_ingest_rate_limited_total',
      help: 'Requests answered 429, by the limit that refused them (write_key, key_address, client_address)',
      labelNames: ['limit'] as const,
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'atspark_ingest_inflight_requests',
      help: 'POST requests being handled right now (bounded by INGEST_MAX_INFLIGHT)',
      registers: [registry],
    }),
    openConnections: new Gauge({
      name: 'atspark_ingest_open_connections',
      help: 'Connections open on the ingest listener (bounded by INGEST_MAX_CONNECTIONS, derived from the open-file limit when unset)',
      registers: [registry],
    }),
    connectionsRefused: new Counter({
      name: 'atspark_ingest_connections_refused_total',
      help: 'Connections closed as soon as accepted, by the bound that refused them (total, per_address)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    publishSeconds: new Histogram({
      name: 'atspark_ingest_publish_seconds',
      help: 'Bus latency: time for bus.publish() to resolve (Kafka ack, or the warehouse write in embedded mode)',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    busQueued: new Gauge({
      name: 'atspark_ingest_bus_queued_items',
      help: 'Items waiting for or in a bus write (Kafka messages, or warehouse rows in embedded mode); new work is refused past the bound',
      registers: [registry],
      collect() {
        this.set(queued())
      },
    }),
    busBatchItems: new Histogram({
      name: 'atspark_ingest_bus_batch_items',
      help: 'Items per bus write (messages per Kafka send, rows per insert in embedded mode)',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: [registry],
    }),
    busWriteFailures: new Counter({
      name: 'atspark_ingest_bus_write_failures_total',
      help: 'Bus writes that failed or timed out; every request in them was answered 503',
      registers: [registry],
    }),
    /** Where atspark_ingest_bus_queued_items reads from, set once the bus exists. */
    watchQueue(source: () => number): void {
      queued = source
    },
  }
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>
