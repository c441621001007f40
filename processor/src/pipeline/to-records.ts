import type { BusMessage, EventRow, GeoPrecision } from '@atspark/schemas'
import { toConsentRow } from '../enrich/consent-row.js'
import { type EventRowDeps, toEventRows } from '../enrich/event-rows.js'
import type { WarehouseRecord } from '@atspark/warehouse'

export interface RecordDeps extends EventRowDeps {
  /** Restriction, objection and erasure: events of a suppressed subject are dropped here, before any write. */
  suppressions?: { suppresses(row: Pick<EventRow, 'org_id' | 'user_pid' | 'anon_id'>): boolean }
  /** The site's configured geo precision; `none` keeps neither country nor network prefix. */
  geoPrecision?: (orgId: string, siteId: string) => GeoPrecision | undefined
}

/** What one bus message becomes in the warehouse. */
export function toRecords(message: BusMessage, deps: RecordDeps): WarehouseRecord[] {
  if (message.kind === 'consent') return [{ table: 'consent_log', row: toConsentRow(message) }]
  const noGeo = deps.geoPrecision?.(message.org_id, message.site_id) === 'none'
  const records: WarehouseRecord[] = []
  for (const row of toEventRows(message, deps)) {
    if (deps.suppressions?.suppresses(row)) continue
    // The rows are fresh objects of this call, so clearing in place is safe and saves a copy per row.
    if (noGeo) {
      row.country = ''
      row.ip_prefix = ''
    }
    records.push({ table: 'events', row })
  }
  return records
}
