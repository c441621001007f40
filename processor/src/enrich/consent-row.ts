import type { ConsentEnvelope, ConsentRow } from '@atspark/schemas'
import { correctTimestamp, warehouseTime } from './clock.js'

/** A receipt becomes one consent_log row: what was chosen, where, under which policy, and when. */
export function toConsentRow(envelope: ConsentEnvelope): ConsentRow {
  const r = envelope.receipt
  return {
    receipt_id: r.id,
    org_id: envelope.org_id,
    site_id: envelope.site_id,
    analytics: r.a,
    preferences: r.p,
    source: r.src,
    policy_revision: r.r,
    ts: warehouseTime(correctTimestamp(r.ts, r.sa, envelope.received_at)),
    received_at: warehouseTime(envelope.received_at),
  }
}
