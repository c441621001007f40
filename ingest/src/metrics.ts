import { Counter, Histogram, Registry } from 'prom-client'

/** Ingest's counters, on a registry of its own so several apps can live in one process (tests, embedded). */
export function createIngestMetrics(registry = new Registry()) {
  return {
    registry,
    events: new Counter({
      name: 'atspark_ingest_events_total',
      help: 'Events seen by ingest, by outcome (accepted, rejected, dropped_consent, dropped_dnt, dropped_gpc)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    receipts: new Counter({
      name: 'atspark_ingest_consent_receipts_total',
      help: 'Consent receipts accepted',
      registers: [registry],
    }),
    requests: new Counter({
      name: 'atspark_ingest_requests_total',
      help: 'POST /v1/batch and /v1/consent requests by status code',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    publishSeconds: new Histogram({
      name: 'atspark_ingest_publish_seconds',
      help: 'Time for bus.publish() to resolve',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  }
}
export type IngestMetrics = ReturnType<typeof createIngestMetrics>
