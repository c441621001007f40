import { z } from 'zod'

/** Default k of the stats API's k-anonymity: fewer distinct visitors than this and a value is merged or hidden. */
export const STATS_K_ANONYMITY_DEFAULT = 5

/** A day (`2026-11-01`) or an hour-aligned wall time (`2026-11-01T13:00`) in the request's time zone. */
export const StatsInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:00(:00)?)?$/, 'YYYY-MM-DD or YYYY-MM-DDTHH:00')
  .describe('a day or an hour-aligned wall time in tz')

export const StatsInterval = z.enum(['hour', 'day', 'week', 'month'])
export type StatsInterval = z.infer<typeof StatsInterval>

/** The rollup dimensions a breakdown may group by (is_bot is a filter, not a breakdown). */
export const StatsDimension = z.enum(['url_path', 'referrer_host', 'country', 'browser', 'os', 'device_type', 'name'])
export type StatsDimension = z.infer<typeof StatsDimension>

export const StatsEventType = z.enum(['pageview', 'click', 'query', 'dashboard', 'feature', 'custom'])

/** Which rollup answered: hourly for ranges of at most 7 days, non-UTC time zones or hourly intervals; daily otherwise. */
export const StatsSource = z.enum(['rollup_hourly', 'rollup_daily', 'consent_log'])

const RangeQuery = {
  site: z.string().min(1).max(63).optional().describe('a site of the key’s org; may be omitted when the org has one site'),
  from: StatsInstant.optional().describe('inclusive start; default 30 days before to'),
  to: StatsInstant.optional().describe('exclusive end; default tomorrow (UTC)'),
}

export const TimeseriesQuery = z.object({
  ...RangeQuery,
  interval: StatsInterval.default('day'),
  tz: z.string().min(1).max(64).default('UTC').describe('IANA time zone for buckets and for from/to'),
})
export type TimeseriesQuery = z.infer<typeof TimeseriesQuery>

export const BreakdownQuery = z.object({
  ...RangeQuery,
  dimension: StatsDimension,
  type: StatsEventType.optional().describe('only events of this type (e.g. pageview for top pages)'),
  limit: z.coerce.number().int().min(1).max(100).default(10),
})
export type BreakdownQuery = z.infer<typeof BreakdownQuery>

export const AdoptionQuery = z.object({
  ...RangeQuery,
  feature: z.string().min(1).max(200).describe('the feature event name (type feature)'),
  interval: StatsInterval.default('day'),
  tz: z.string().min(1).max(64).default('UTC').describe('IANA time zone for buckets and for from/to'),
})
export type AdoptionQuery = z.infer<typeof AdoptionQuery>

export const ConsentQuery = z.object(RangeQuery)
export type ConsentQuery = z.infer<typeof ConsentQuery>

/** A count that is null when hidden by k-anonymity. */
const Hideable = z.number().int().min(0).nullable()

const Meta = {
  org_id: z.string(),
  site: z.string(),
  from: z.string(),
  to: z.string(),
  k: z.number().int().min(1).describe('the k-anonymity threshold applied'),
}

export const TimeseriesBucket = z.strictObject({
  t: z.string().describe('bucket start, wall time in tz (YYYY-MM-DD or YYYY-MM-DDTHH:00:00)'),
  hidden: z.boolean().describe('true when the bucket had fewer than k visitors: every count is null'),
  visitors: Hideable,
  pageviews: Hideable,
  events: Hideable,
  sessions: Hideable,
})
export const TimeseriesResponse = z.strictObject({
  ...Meta,
  interval: StatsInterval,
  tz: z.string(),
  source: StatsSource,
  buckets: z.array(TimeseriesBucket),
})
export type TimeseriesResponse = z.infer<typeof TimeseriesResponse>

export const AdoptionBucket = z.strictObject({
  t: z.string(),
  hidden: z.boolean().describe('true when fewer than k accounts or visitors used the feature in the bucket'),
  accounts: Hideable.describe('distinct signed-in accounts (user_pid) that used the feature'),
  visitors: Hideable,
  events: Hideable,
})
export const AdoptionResponse = z.strictObject({
  ...Meta,
  feature: z.string(),
  interval: StatsInterval,
  tz: z.string(),
  source: StatsSource,
  buckets: z.array(AdoptionBucket),
})
export type AdoptionResponse = z.infer<typeof AdoptionResponse>

export const BreakdownRow = z.strictObject({ value: z.string(), visitors: z.number().int().min(0), events: z.number().int().min(0) })
export const BreakdownResponse = z.strictObject({
  ...Meta,
  dimension: StatsDimension,
  type: StatsEventType.nullable(),
  source: StatsSource,
  rows: z.array(BreakdownRow).describe('top values by visitors, each seen by at least k visitors'),
  other: z
    .strictObject({ visitors: z.number().int().min(0), events: z.number().int().min(0) })
    .nullable()
    .describe('every other value together; null when empty or seen by fewer than k visitors'),
})
export type BreakdownResponse = z.infer<typeof BreakdownResponse>

export const ConsentSourceRow = z.strictObject({ source: z.string(), grants: Hideable, refusals: Hideable })
export const ConsentResponse = z.strictObject({
  ...Meta,
  source: StatsSource,
  sources: z.array(ConsentSourceRow).describe('receipts per source; a count under k is null, as is the smallest other needed to stop it being derived'),
  grants: Hideable,
  refusals: Hideable,
  grant_rate: z.number().min(0).max(1).nullable().describe('grants / (grants + refusals); null when either is hidden'),
})
export type ConsentResponse = z.infer<typeof ConsentResponse>

export const StatsError = z.strictObject({ error: z.string(), message: z.string() })
