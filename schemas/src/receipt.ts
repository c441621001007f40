import { z } from 'zod'
import { ConsentSource } from './consent.js'
import { EpochMs } from './primitives.js'

/**
 * Body of POST /v1/consent: proof of one consent change. Essential, so it is accepted whatever
 * the analytics choice or DNT/GPC say, and it carries no analytics identifier by construction.
 */
export const WireConsentReceipt = z.strictObject({
  v: z.literal(1).describe('wire version'),
  k: z.string().min(1).max(128).describe('site write key'),
  id: z.uuid().describe('receipt id, also stored in the consent cookie'),
  ts: EpochMs.describe('client clock, epoch ms, when the choice was made'),
  sa: EpochMs.describe('sent_at: client clock when this request was sent'),
  a: z.boolean().describe('analytics granted'),
  p: z.boolean().describe('preferences granted'),
  src: ConsentSource.describe('where the change came from: banner, api, dnt, gpc, default'),
  r: z.string().max(64).describe('policy revision the choice was made under'),
})
export type WireConsentReceipt = z.infer<typeof WireConsentReceipt>
