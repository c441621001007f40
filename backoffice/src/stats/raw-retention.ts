import { EVENTS_TTL_MONTHS, StatsErrorCode, type StatsInterval } from '@atspark/schemas'
import { approxMs, type ResolvedRange, StatsRequestError } from './queries.js'

/** What raw events still cover: answers from `events` must stay inside it, the rollups outlive it. */

const HOUR_MS = 3_600_000

/**
 * The earliest instant whose raw events are surely still there: now minus the site's retention in
 * calendar months, the day clamped to the month's end as ClickHouse's `- INTERVAL n MONTH` does.
 */
export function rawHorizon(now: number, months: number = EVENTS_TTL_MONTHS): number {
  const d = new Date(now)
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - months, 1))
  const lastDay = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate()
  return Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())
}

export interface WallParts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
}

/** The wall clock of an instant in tz, to the minute. */
export function wallParts(ms: number, tz: string): WallParts {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' })
  const parts = fmt.formatToParts(ms)
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return { year: part('year'), month: part('month'), day: part('day'), hour: part('hour'), minute: part('minute') }
}

/** tz's offset from UTC at an instant (zones have whole-minute offsets). */
function offsetMs(ms: number, tz: string): number {
  const p = wallParts(ms, tz)
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) - Math.floor(ms / 60_000) * 60_000
}

/** The UTC instant of a wall time (`YYYY-MM-DD` or `YYYY-MM-DDTHH:00`) in tz; twice corrected so a DST change in between is seen. */
export function wallTimeToUtc(wall: string, tz: string): number {
  const guess = approxMs(wall)
  const first = guess - offsetMs(guess, tz)
  return guess - offsetMs(first, tz)
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0')
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Raw answers need the whole range inside the retention, or they would silently undercount. */
export function assertRawCovers(range: ResolvedRange, horizon: number, what: string): void {
  if (wallTimeToUtc(range.from, range.tz) >= horizon) return
  const firstDay = isoDay(Math.ceil(horizon / 86_400_000) * 86_400_000)
  throw new StatsRequestError(`${what} reads raw events, kept for the site's retention only: from must be ${firstDay} or later`, StatsErrorCode.invalidRange, 'from')
}

/**
 * The label of the bucket holding the horizon, built like the SQL does (the UTC hour first, then
 * wall time in tz): that bucket and every earlier one are only partly covered by raw events.
 */
export function horizonBucket(horizon: number, interval: StatsInterval, tz: string): string {
  const p = wallParts(Math.floor(horizon / HOUR_MS) * HOUR_MS, tz)
  const date = `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`
  switch (interval) {
    case 'hour':
      return `${date}T${pad(p.hour)}:00:00`
    case 'day':
      return date
    case 'week': {
      const day = Date.UTC(p.year, p.month - 1, p.day)
      return isoDay(day - ((new Date(day).getUTCDay() + 6) % 7) * 86_400_000)
    }
    case 'month':
      return `${pad(p.year, 4)}-${pad(p.month)}-01`
  }
}

/**
 * The start of the last bucket of the range that has begun by `now`: the range's last bucket when it is
 * past, now's bucket when it runs on, null when the range starts in the future. Later buckets are not answered.
 */
export function lastBegunBucket(range: Pick<ResolvedRange, 'from' | 'to' | 'tz'>, interval: StatsInterval, now: number): string | null {
  const start = wallTimeToUtc(range.from, range.tz)
  if (start > now) return null
  const end = wallTimeToUtc(range.to, range.tz)
  return horizonBucket(Math.min(now, end - 1), interval, range.tz)
}
