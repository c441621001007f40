import { z } from 'zod'
import { DeviceType, EventType } from './events.js'

/** ClickHouse DateTime64(3, 'UTC') text form, e.g. `2026-11-28 19:03:06.123`. */
export const WarehouseTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/)

/** GA4-style default channel groups; `Internal` is a navigation within the site (referrer host = page host), never a visit's source. */
export const CHANNELS = [
  'Direct',
  'Organic Search',
  'Paid Search',
  'Organic Social',
  'Paid Social',
  'Email',
  'Referral',
  'Affiliates',
  'Display',
  'Video',
  'Internal',
] as const
export const Channel = z.enum(CHANNELS)
export type Channel = z.infer<typeof Channel>

/** Longest utm_* value stored; longer ones are cut. */
export const UTM_MAX_LENGTH = 100

/** One row of `atspark.events`, as inserted (JSONEachRow). Holds no raw IP and no raw user id. */
export const EventRow = z.strictObject({
  event_id: z.uuid(),
  org_id: z.string(),
  site_id: z.string(),
  type: EventType,
  name: z.string(),
  ts: WarehouseTime,
  received_at: WarehouseTime,
  anon_id: z.string(),
  session_id: z.string(),
  user_pid: z.string().describe('HMAC-SHA256 pseudonym of the host app user id, hex; empty when absent'),
  url_path: z.string(),
  url_host: z.string(),
  referrer_host: z.string(),
  props: z.record(z.string(), z.string()),
  browser: z.string(),
  browser_version: z.string(),
  os: z.string(),
  os_version: z.string(),
  device_type: DeviceType,
  is_bot: z.boolean(),
  screen_w: z.number().int().min(0),
  screen_h: z.number().int().min(0),
  locale: z.string(),
  tz: z.string(),
  country: z.string().regex(/^([A-Z]{2})?$/),
  ip_prefix: z.string().describe('truncated network in CIDR notation: IPv4 /24, IPv6 /48 (6to4 2002::/16 at /40, since its bits 16–47 embed an IPv4 address)'),
  utm_source: z.string().describe("the page URL's utm_source, at most 100 chars; '' when absent or when it looked like personal data"),
  utm_medium: z.string(),
  utm_campaign: z.string(),
  utm_term: z.string(),
  utm_content: z.string(),
  channel: Channel.or(z.literal('')).describe(
    "default channel grouping from the referrer and utm tags; with a session_id, the visit's (its first event's), as are utm_*",
  ),
  entry_page: z.string().describe("url_path of the visit's first pageview, on each of its events; '' without a session_id or before the visit's first pageview"),
})
export type EventRow = z.infer<typeof EventRow>

/** The columns every event of a visit carries with the visit's value, stamped by the processor (migration 12 backfilled them). */
export const VISIT_COLUMNS = ['channel', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content', 'entry_page'] as const satisfies readonly (keyof EventRow)[]

/** Formats epoch ms as the warehouse's DateTime64(3) text. */
export function toWarehouseTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ')
}

/** Epoch ms of the warehouse's DateTime64(3) text (UTC), as the JSON formats return it: toWarehouseTime's inverse. */
export function fromWarehouseTime(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`)
}

/** One row of `atspark.consent_log`: proof of a consent change. No IP, no analytics identifier. */
export const ConsentRow = z.strictObject({
  receipt_id: z.uuid(),
  org_id: z.string(),
  site_id: z.string(),
  analytics: z.boolean(),
  preferences: z.boolean(),
  source: z.string(),
  policy_revision: z.string(),
  ts: WarehouseTime,
  received_at: WarehouseTime,
})
export type ConsentRow = z.infer<typeof ConsentRow>
