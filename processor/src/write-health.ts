import type { ProcessorMetrics } from './metrics.js'
import type { WarehouseFailpoint } from './failpoints.js'
import type { WarehouseRecord, WriteRecords } from '@atspark/warehouse'

/** Whether warehouse writes work right now: unhealthy from a failed write until the next one succeeds (drives /readyz). */
export class WriteHealth {
  private lastFailure = 0
  private lastSuccess = 0

  record(ok: boolean): void {
    if (ok) this.lastSuccess = performance.now()
    else this.lastFailure = performance.now()
  }

  ok(): boolean {
    return this.lastSuccess >= this.lastFailure
  }
}

export interface InstrumentOptions {
  metrics: ProcessorMetrics
  health: WriteHealth
  /** Test-only failpoint in front of every write (ATSPARK_FAILPOINTS=1). */
  failpoint?: WarehouseFailpoint
}

/** A warehouse write with its batch size, failures, rows and health recorded; both modes write through one. */
export function instrumentWrites(write: WriteRecords, { metrics, health, failpoint }: InstrumentOptions): WriteRecords {
  return async (records: readonly WarehouseRecord[], dedupToken?: string) => {
    metrics.batchRows.observe(records.length)
    try {
      await failpoint?.beforeWrite()
      await write(records, dedupToken)
    } catch (err) {
      metrics.writeFailures.inc()
      health.record(false)
      throw err
    }
    health.record(true)
    for (const r of records) metrics.rows.inc({ table: r.table })
  }
}
