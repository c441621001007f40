import { Counter, Gauge, Histogram, type Registry, Summary } from 'prom-client'

/** The processor's metrics: the warehouse side in both modes, the consumer's in the Kafka mode. */
export function createProcessorMetrics(registry: Registry) {
  const registers = [registry]
  return {
    rows: new Counter({ name: 'atspark_processor_rows_written_total', help: 'Rows inserted (insert acknowledged), by table', labelNames: ['table'] as const, registers }),
    insertSeconds: new Histogram({
      name: 'atspark_processor_warehouse_insert_seconds',
      help: 'Warehouse insert latency per table insert, failed ones included',
      labelNames: ['table'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    batchRows: new Histogram({
      name: 'atspark_processor_batch_rows',
      help: 'Rows per warehouse write (one group commit in embedded mode, one sealed partition batch in Kafka mode)',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000],
      registers,
    }),
    writeFailures: new Counter({ name: 'atspark_processor_warehouse_write_failures_total', help: 'Warehouse writes that failed (each is retried, or answered 503 in embedded mode)', registers }),
    duplicates: new Counter({ name: 'atspark_processor_duplicate_events_total', help: 'Events dropped because their (org, id) was already written', registers }),
    dlq: new Counter({ name: 'atspark_processor_dlq_messages_total', help: 'Messages sent to the DLQ', registers }),
    freshness: new Summary({
      name: 'atspark_processor_freshness_seconds',
      help: 'From ingest receiving a batch to its rows being queryable (insert acknowledged), per message',
      percentiles: [0.5, 0.95, 0.99],
      maxAgeSeconds: 120,
      ageBuckets: 4,
      registers,
    }),
    visitLookups: new Counter({
      name: 'atspark_processor_visit_lookups_total',
      help: 'Warehouse lookups of visit values: at most one per written batch, for the sessions the processor does not remember',
      registers,
    }),
    visitSessionsLookedUp: new Counter({ name: 'atspark_processor_visit_sessions_looked_up_total', help: 'Sessions asked of the warehouse by visit lookups', registers }),
    visitSessionsFound: new Counter({
      name: 'atspark_processor_visit_sessions_found_total',
      help: 'Sessions a visit lookup found stored (a visit continued after a restart, a rebalance or an idle hour); the others start in their batch',
      registers,
    }),
    visitSessionsNew: new Counter({
      name: 'atspark_processor_visit_sessions_new_total',
      help: 'Sessions taken as new without a lookup: the filter of written visits (rebuilt at start and on rebalance) holds none of them',
      registers,
    }),
    visitLookupSeconds: new Histogram({
      name: 'atspark_processor_visit_lookup_seconds',
      help: 'Visit lookup latency (part of the write it precedes)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    visitCacheEntries: new Gauge({ name: 'atspark_processor_visit_cache_entries', help: 'Visits remembered in memory (at most PROCESSOR_VISIT_CACHE_MAX)', registers }),
    pausedPartitions: new Gauge({
      name: 'atspark_processor_paused_partitions',
      help: 'Partitions paused by this processor while their warehouse write is retried (backpressure: the backlog waits in Kafka)',
      registers,
    }),
  }
}
export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>

/** The consumer group's committed lag per raw partition, read from the broker when scraped (cached briefly, bounded wait). */
export function consumerLagGauge(registry: Registry, read: () => Promise<Map<number, number>>): Gauge {
  let last = new Map<number, number>()
  let readAt = 0
  return new Gauge({
    name: 'atspark_processor_consumer_lag',
    help: "Messages on the raw topic past the group's committed offset, per partition (the group's, so every member reports the same)",
    labelNames: ['partition'] as const,
    registers: [registry],
    async collect() {
      // A scrape must not hang on a dead broker: past the wait, the last known lag is reported.
      if (Date.now() - readAt > 2_000) {
        readAt = Date.now()
        let timer: NodeJS.Timeout | undefined
        const wait = new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), 1_500)
        })
        const fresh = await Promise.race([read().catch(() => undefined), wait])
        clearTimeout(timer)
        if (fresh) last = fresh
      }
      this.reset()
      for (const [partition, lag] of last) this.set({ partition: String(partition) }, lag)
    },
  })
}
