import { recordWriter, type WriteRecords } from '@atspark/warehouse'
import type { ClickHouseClient } from '@clickhouse/client'
import { VisitStitcher, withVisitAttribution } from '../enrich/visit-attribution.js'
import { warehouseStoredVisits, warehouseVisitLookup } from '../enrich/visit-lookup.js'
import { type InstrumentOptions, instrumentWrites } from '../write-health.js'

export interface WarehouseWrites {
  /** Stamps visit values, inserts, and records metrics and health: what both modes call with a batch of new records. */
  write: WriteRecords
  /** The visits it remembers: rebuilt from the warehouse at start and (Kafka) when partitions move. */
  visits: VisitStitcher
}

/**
 * The processor's one warehouse write, shared by the embedded bus and the Kafka consumer (after their duplicate
 * dropping): the visit stitcher, then the insert. A failed visit lookup fails the write like a failed insert.
 */
export function warehouseWrites(warehouse: ClickHouseClient, options: InstrumentOptions & { visitCacheMax: number }): WarehouseWrites {
  const { metrics } = options
  const visits = new VisitStitcher({
    max: options.visitCacheMax,
    lookup: warehouseVisitLookup(warehouse),
    stored: warehouseStoredVisits(warehouse),
    observe: {
      surelyNew(sessions) {
        metrics.visitSessionsNew.inc(sessions)
      },
      lookedUp(sessions, found, seconds) {
        metrics.visitLookups.inc()
        metrics.visitSessionsLookedUp.inc(sessions)
        metrics.visitSessionsFound.inc(found)
        metrics.visitLookupSeconds.observe(seconds)
      },
    },
  })
  const insert = recordWriter(warehouse, (table, seconds) => metrics.insertSeconds.observe({ table }, seconds))
  const stamped = withVisitAttribution(insert, visits)
  const write = instrumentWrites(async (records, dedupToken) => {
    await stamped(records, dedupToken)
    metrics.visitCacheEntries.set(visits.size)
  }, options)
  return { write, visits }
}
