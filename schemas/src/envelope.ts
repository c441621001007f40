import { z } from 'zod'
import { LIMITS } from './constants.js'
import { SealedIp } from './ip-keys.js'
import { WireConsentReceipt } from './receipt.js'
import { WireEvent } from './wire.js'

/**
 * What ingest hands to the bus for `/v1/batch`: one accepted batch of one visitor, stamped by
 * the server. The org and site come from the write key, never from the body.
 */
export const Envelope = z.strictObject({
  v: z.literal(1),
  kind: z.literal('events'),
  org_id: z.string().min(1),
  site_id: z.string().min(1),
  received_at: z.number().int().describe('server clock, epoch ms'),
  sent_at: z.number().int().describe('client clock at send, epoch ms (from the wire)'),
  /** Never the address itself: only the processor can open it, and it drops it after geo and truncation. */
  ip_sealed: SealedIp.describe('client address (socket peer, or X-Forwarded-For from a trusted proxy), sealed by ingest with AES-256-GCM'),
  ua: z.string().max(LIMITS.userAgentLength).describe('User-Agent header, truncated'),
  policy_revision: z.string().max(64).optional(),
  events: z.array(WireEvent).min(1).max(LIMITS.eventsPerBatch),
})
export type Envelope = z.infer<typeof Envelope>

/** What ingest hands to the bus for `/v1/consent`: one receipt, with no IP and no user agent. */
export const ConsentEnvelope = z.strictObject({
  v: z.literal(1),
  kind: z.literal('consent'),
  org_id: z.string().min(1),
  site_id: z.string().min(1),
  received_at: z.number().int(),
  receipt: WireConsentReceipt.omit({ k: true }),
})
export type ConsentEnvelope = z.infer<typeof ConsentEnvelope>

/** Every message on the raw topic. */
export const BusMessage = z.discriminatedUnion('kind', [Envelope, ConsentEnvelope])
export type BusMessage = z.infer<typeof BusMessage>

/** Partition key: one visitor's events stay in order on one partition; receipts spread by id. */
export function messageKey(message: BusMessage): string {
  if (message.kind === 'consent') return message.receipt.id
  const first = message.events[0]
  return first?.a ?? first?.s ?? first?.id ?? message.site_id
}
