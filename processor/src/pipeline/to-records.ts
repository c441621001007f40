import type { BusMessage } from '@atspark/schemas'
import { toConsentRow } from '../enrich/consent-row.js'
import { type EventRowDeps, toEventRows } from '../enrich/event-rows.js'
import type { WarehouseRecord } from '../warehouse/record-writer.js'

/** What one bus message becomes in the warehouse. */
export function toRecords(message: BusMessage, deps: EventRowDeps): WarehouseRecord[] {
  if (message.kind === 'consent') return [{ table: 'consent_log', row: toConsentRow(message) }]
  return toEventRows(message, deps).map((row) => ({ table: 'events', row }))
}
