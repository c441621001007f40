import { z } from 'zod'
import { DeviceType, EventType } from './events.js'

/** ClickHouse DateTime64(3, 'UTC') text form, e.g. `2026-11-28 19:03:06.123`. */
export const WarehouseTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/)

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
})
export type EventRow = z.infer<typeof EventRow>

/** Formats epoch ms as the warehouse's DateTime64(3) text. */
export function toWarehouseTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ')
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
