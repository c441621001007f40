import { toWarehouseTime } from '@atspark/schemas'

/**
 * Moves a client timestamp onto the server clock: the offset between the client's `sentAt`
 * and our `receivedAt` is the client's skew (plus transit time), so adding it cancels the skew.
 */
export function correctTimestamp(ts: number, sentAt: number, receivedAt: number): number {
  const corrected = ts + (receivedAt - sentAt)
  // Nothing can have happened after we received it; a lying or buggy client must not write into the future.
  return Math.min(corrected, receivedAt)
}

const DAY_MS = 86_400_000
/** The fast path covers whole milliseconds from 1970 to 9999, where toISOString has a four-digit year and no sign. */
const FAST_MAX = Date.UTC(10_000, 0, 1)
const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'))
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))
/** `YYYY-MM-DD ` by day number; events of one batch span a few days at most, so this stays tiny (and is cleared if not). */
const dayPrefixes = new Map<number, string>()

/**
 * toWarehouseTime (schemas/row.ts) for the hot path: the same text, without a Date, an ISO string
 * and two copies of it per row. Anything outside the fast path's range goes to toWarehouseTime.
 */
export function warehouseTime(ms: number): string {
  if (!(ms >= 0 && ms < FAST_MAX && Number.isInteger(ms))) return toWarehouseTime(ms)
  const day = Math.floor(ms / DAY_MS)
  let prefix = dayPrefixes.get(day)
  if (prefix === undefined) {
    if (dayPrefixes.size >= 1_024) dayPrefixes.clear()
    prefix = toWarehouseTime(day * DAY_MS).slice(0, 11)
    dayPrefixes.set(day, prefix)
  }
  let rest = ms - day * DAY_MS
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1_000)
  return `${prefix}${TWO[hours]}:${TWO[minutes]}:${TWO[seconds]}.${THREE[rest - seconds * 1_000]}`
}
