// Date ranges as the stats API takes them: whole UTC days, `from` inclusive, `to` exclusive.

export const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000

/** The presets the picker offers, in days ending today. */
export const PRESET_DAYS = [7, 30, 90] as const
export type PresetDays = (typeof PRESET_DAYS)[number]

/** The stats API's longest range. */
export const MAX_RANGE_DAYS = 800

export type Interval = 'hour' | 'day' | 'week'

/** A chosen range: a preset (moves with the clock) or fixed days; `to` is the last day shown, inclusive. */
export type RangeChoice = { kind: 'preset'; days: PresetDays } | { kind: 'custom'; from: string; to: string }

export interface ResolvedRange {
  /** Query values: from inclusive, to exclusive (the day after the last day shown). */
  from: string
  to: string
  /** The last day shown. */
  last: string
  days: number
  interval: Interval
}

export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** Milliseconds of a `YYYY-MM-DD` day's UTC midnight, or NaN when it is not a real day. */
export function dayMs(day: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return Number.NaN
  const ms = Date.parse(`${day}T00:00:00Z`)
  return Number.isNaN(ms) || isoDay(ms) !== day ? Number.NaN : ms
}

/** Hours for a day or two, days up to four months, weeks beyond: enough points to read, few enough to draw. */
export function intervalFor(days: number): Interval {
  if (days <= 2) return 'hour'
  if (days <= 120) return 'day'
  return 'week'
}

/** A choice as query values, relative to `now` for presets. */
export function resolveRange(choice: RangeChoice, now: number): ResolvedRange {
  const today = Math.floor(now / DAY_MS) * DAY_MS
  const [first, last] = choice.kind === 'preset' ? [today - (choice.days - 1) * DAY_MS, today] : [dayMs(choice.from), dayMs(choice.to)]
  const days = Math.round((last - first) / DAY_MS) + 1
  return { from: isoDay(first), to: isoDay(last + DAY_MS), last: isoDay(last), days, interval: intervalFor(days) }
}

/** Why a custom range cannot be used, or undefined when it can. */
export function customRangeProblem(from: string, to: string): string | undefined {
  const a = dayMs(from)
  const b = dayMs(to)
  if (Number.isNaN(a) || Number.isNaN(b)) return 'Choose both days.'
  if (a > b) return 'The first day must not be after the last.'
  if ((b - a) / DAY_MS + 1 > MAX_RANGE_DAYS) return `Choose at most ${MAX_RANGE_DAYS} days.`
  return undefined
}

/** Milliseconds of a bucket start as the API writes it (`YYYY-MM-DD` or `YYYY-MM-DDTHH:00:00`, UTC here). */
export function bucketMs(t: string): number {
  return Date.parse(t.length === 10 ? `${t}T00:00:00Z` : `${t}Z`)
}

/**
 * Every bucket start of the range that has begun by `until`, so a past period without any event is
 * drawn as a true zero and a future one not at all; the API leaves empty buckets out (and marks hidden
 * ones, which stay gaps). Weeks start on Monday.
 */
export function bucketStarts(range: ResolvedRange, until = Number.POSITIVE_INFINITY): number[] {
  const start = dayMs(range.from)
  const end = Math.min(dayMs(range.to), until + 1)
  const starts: number[] = []
  if (range.interval === 'hour') {
    for (let t = start; t < end; t += HOUR_MS) starts.push(t)
    return starts
  }
  if (range.interval === 'day') {
    for (let t = start; t < end; t += DAY_MS) starts.push(t)
    return starts
  }
  const sinceMonday = (new Date(start).getUTCDay() + 6) % 7
  for (let t = start - sinceMonday * DAY_MS; t < end; t += 7 * DAY_MS) starts.push(t)
  return starts
}

/** "day", "7 days": the previous period the comparison is against, as words. */
export function periodWords(range: ResolvedRange): string {
  return range.days === 1 ? 'day' : `${range.days} days`
}

/** A range as the picker's label, e.g. "1 – 30 Nov 2026 (UTC)". */
export function describeRange(range: ResolvedRange): string {
  const fmt = (day: string, withYear: boolean) =>
    new Date(dayMs(day)).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', ...(withYear ? { year: 'numeric' } : {}), timeZone: 'UTC' })
  return range.from === range.last ? `${fmt(range.from, true)} (UTC)` : `${fmt(range.from, range.from.slice(0, 4) !== range.last.slice(0, 4))} – ${fmt(range.last, true)} (UTC)`
}
