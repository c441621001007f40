import type { ConsentEnvelope, ConsentRow } from '@atspark/schemas'
import { correctTimestamp, warehouseTime } from './clock.js'

/** A receipt's times keep the hour only (UTC): finer ones would link it to the visitor's first event (docs/privacy.md). */
export const RECEIPT_TIME_GRAIN_MS = 3_600_000

/** The start of `ms`'s UTC hour. */
export function receiptHour(ms: number): number {
  return Math.floor(ms / RECEIPT_TIME_GRAIN_MS) * RECEIPT_TIME_GRAIN_MS
}

/**
 * A receipt becomes one consent_log row: what was chosen, where, under which policy, and in which
 * hour. No IP, no user agent, no analytics identifier; the receipt id is random and travels only
 * in the consent cookie, never with events.
 */
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
    ts: warehouseTime(receiptHour(correctTimestamp(r.ts, r.sa, envelope.received_at))),
    received_at: warehouseTime(receiptHour(envelope.received_at)),
  }
}
