import { z } from 'zod'
import { LIMITS } from './constants.js'
import { WireEvent } from './wire.js'

/**
 * What ingest hands to the bus: one accepted batch of one visitor, stamped by the server.
 * The org and site come from the write key, never from the body.
 */
export const Envelope = z.strictObject({
  v: z.literal(1),
  org_id: z.string().min(1),
  site_id: z.string().min(1),
  received_at: z.number().int().describe('server clock, epoch ms'),
  sent_at: z.number().int().describe('client clock at send, epoch ms (from the wire)'),
  ip: z.string().max(64).describe('client address: socket peer, or X-Forwarded-For from a trusted proxy'),
  ua: z.string().max(LIMITS.userAgentLength).describe('User-Agent header, truncated'),
  policy_revision: z.string().max(64).optional(),
  events: z.array(WireEvent).min(1).max(LIMITS.eventsPerBatch),
})
export type Envelope = z.infer<typeof Envelope>

/** Partition key: one visitor's events stay in order on one partition. */
export function envelopeKey(envelope: Envelope): string {
  const first = envelope.events[0]
  return first?.a ?? first?.s ?? first?.id ?? envelope.site_id
}
