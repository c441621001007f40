import { z } from 'zod'
import { LIMITS } from './constants.js'
import { PrivacySignal } from './consent.js'
import { EventType } from './events.js'
import { EpochMs } from './primitives.js'

/** Identifiers the SDK mints: printable, short, no separators that could smuggle structure. */
const Id = z
  .string()
  .min(1)
  .max(LIMITS.idLength)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'ids are [A-Za-z0-9_.:-]')


const PropValue = z.union([z.string().max(LIMITS.propValueLength), z.number().finite(), z.boolean(), z.null()])

/** Free-form event properties: flat, bounded, scalar values only. */
export const WireProps = z
  .record(z.string().min(1).max(LIMITS.propKeyLength), PropValue)
  .refine((p) => Object.keys(p).length <= LIMITS.propsKeys, { message: `at most ${LIMITS.propsKeys} props` })
export type WireProps = z.infer<typeof WireProps>

/**
 * One event as the SDK posts it. Keys are short because they ship in every request;
 * each `.describe()` is the documentation of the wire.
 */
export const WireEvent = z.strictObject({
  id: z.uuid().describe('event id (UUID), minted once and reused on retries so the server can deduplicate'),
  t: EventType.describe('event type: pageview, click, query, dashboard, feature or custom'),
  n: z.string().min(1).max(LIMITS.nameLength).optional().describe('event name (custom/feature/query/dashboard name, click label)'),
  ts: EpochMs.describe('client clock, epoch ms, when the event happened; corrected server-side by the sent_at offset'),
  a: Id.optional().describe('anon_id: random analytics identifier, present only while analytics is granted'),
  s: Id.optional().describe('session_id: random per browser session'),
  uid: z.string().min(1).max(256).optional().describe('user id from the host app; stored only as an HMAC pseudonym'),
  u: z.string().max(LIMITS.urlLength).optional().describe('page URL; only host and path are kept, query and fragment are dropped'),
  r: z.string().max(LIMITS.urlLength).optional().describe('referrer URL; only its host is kept'),
  p: WireProps.optional().describe('properties: flat map of scalars'),
  sw: z.number().int().min(0).max(100_000).optional().describe('screen width, CSS px'),
  sh: z.number().int().min(0).max(100_000).optional().describe('screen height, CSS px'),
  l: z.string().max(35).optional().describe('locale, BCP 47 (navigator.language)'),
  tz: z.string().max(64).optional().describe('IANA time zone (Intl)'),
})
export type WireEvent = z.infer<typeof WireEvent>

/** Consent state the SDK held when it sent the batch; the server re-checks it and the request headers. */
export const WireConsent = z.strictObject({
  a: z.boolean().describe('analytics granted'),
  p: z.boolean().describe('preferences granted'),
  r: z.string().max(64).optional().describe('policy revision the choice was made under'),
  b: PrivacySignal.optional().describe('browser signal (dnt/gpc) that blocks analytics, as seen by the SDK'),
})
export type WireConsent = z.infer<typeof WireConsent>

/** Body of POST /v1/batch (JSON, or text/plain from sendBeacon). */
export const WireBatch = z.strictObject({
  v: z.literal(1).describe('wire version'),
  k: z.string().min(1).max(128).describe('site write key (public, identifies org and site)'),
  sa: EpochMs.describe('sent_at: client clock, epoch ms, when this request was sent'),
  c: WireConsent.describe('consent state at send time'),
  e: z.array(WireEvent).min(1).max(LIMITS.eventsPerBatch).describe('events, oldest first'),
})
export type WireBatch = z.infer<typeof WireBatch>

/**
 * The batch with its events left unchecked, so ingest can validate each event on its own:
 * one bad event is rejected with its reason and the valid ones in the same batch still land.
 */
export const WireBatchShell = WireBatch.extend({
  e: z.array(z.unknown()).min(1).max(LIMITS.eventsPerBatch),
})
export type WireBatchShell = z.infer<typeof WireBatchShell>
