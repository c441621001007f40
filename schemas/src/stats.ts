import { z } from 'zod'
import { SiteMode } from './consent.js'
import { PROP_DIMENSION, StatsFilters, StatsGoalParam } from './stats-filters.js'

/** Default k of the stats API's k-anonymity: fewer distinct visitors than this and a value is merged or hidden. */
export const STATS_K_ANONYMITY_DEFAULT = 5

/**
 * Why a stats request was refused: the `error` of its 4xx. Parameter checks in the query schemas below
 * carry theirs as the issue's `params.code`; an issue without one is `invalid_request`.
 */
export const StatsErrorCode = {
  invalidRequest: 'invalid_request',
  invalidDate: 'invalid_date',
  invalidTimezone: 'invalid_timezone',
  invalidRange: 'invalid_range',
  invalidFilter: 'invalid_filter',
} as const
export type StatsErrorCode = (typeof StatsErrorCode)[keyof typeof StatsErrorCode]

/** Years a stats date may name: inside every engine type the queries touch (DateTime ends in 2106; earlier dates saturate silently). */
export const STATS_MIN_YEAR = 2000
export const STATS_MAX_YEAR = 2099

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):00(?::00)?)?$/

/** A real calendar day (2026-02-30 is not), optionally with an hour 00–23, within the supported years. */
export function isStatsInstant(s: string): boolean {
  const m = INSTANT.exec(s)
  if (!m) return false
  const [year, month, day, hour] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)]
  if (year < STATS_MIN_YEAR || year > STATS_MAX_YEAR || month < 1 || month > 12 || hour > 23) return false
  return day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

/** A day (`2026-11-01`) or an hour-aligned wall time (`2026-11-01T13:00`) in the request's time zone. */
export const StatsInstant = z
  .string()
  .refine(isStatsInstant, {
    message: `not a real date: YYYY-MM-DD or YYYY-MM-DDTHH:00 (hour 00–23), years ${STATS_MIN_YEAR}–${STATS_MAX_YEAR}`,
    params: { code: StatsErrorCode.invalidDate },
  })
  // The refinement is invisible to JSON Schema: the pattern is said here for the OpenAPI document.
  .meta({ pattern: INSTANT.source })
  .describe('a day or an hour-aligned wall time in tz')

/** The shape of an IANA zone name: a letter first, so UTC offsets (`+01:00`, which the engine does not take) are out. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/

/**
 * An IANA zone name the JavaScript runtime knows (any case: Intl matches names case-insensitively). The
 * stats API then also requires the warehouse engine to know it and asks the engine in its own spelling:
 * the two lists differ (a zone newer than the engine's tzdata), and the engine is case-sensitive.
 */
export function isRuntimeTimeZone(tz: string): boolean {
  if (!ZONE_NAME.test(tz)) return false
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export const StatsTimeZone = z
  .string()
  .refine(isRuntimeTimeZone, { message: 'not a known IANA time zone (e.g. Europe/Berlin, UTC)', params: { code: StatsErrorCode.invalidTimezone } })
  .meta({ pattern: ZONE_NAME.source })
  .default('UTC')
  .describe('IANA time zone for buckets and for from/to, matched case-insensitively; the answer’s tz is the warehouse’s spelling of it')

export const StatsInterval = z.enum(['hour', 'day', 'week', 'month'])
export type StatsInterval = z.infer<typeof StatsInterval>

/** The rollup dimensions a breakdown may group by (is_bot is a filter, not a breakdown). */
export const StatsDimension = z.enum(['url_path', 'referrer_host', 'country', 'browser', 'os', 'device_type', 'name'])
export type StatsDimension = z.infer<typeof StatsDimension>

/** Every dimension a breakdown may group by: the rollup ones, event `type`, the visit-level ones, `props.<key>` and `goal` (rows = goals). */
export const StatsBreakdownDimension = z.union([
  z.enum([
    'url_path',
    'referrer_host',
    'country',
    'browser',
    'os',
    'device_type',
    'name',
    'type',
    'entry_page',
    'exit_page',
    'channel',
    'utm_source',
    'utm_medium',
    'utm_campaign',
    'utm_term',
    'utm_content',
    'goal',
  ]),
  z
    .string()
    .regex(PROP_DIMENSION, 'props.<key>, key 1–64 of A-Z a-z 0-9 _ . -')
    .transform((s) => s as `props.${string}`),
])
export type StatsBreakdownDimension = z.infer<typeof StatsBreakdownDimension>

export const StatsEventType = z.enum(['pageview', 'click', 'query', 'dashboard', 'feature', 'custom'])

/** Which table answered: hourly rollup for ranges of at most 7 days, non-UTC time zones or hourly intervals; daily otherwise; `events` for raw answers. */
export const StatsSource = z.enum(['rollup_dims_hourly', 'rollup_dims_daily', 'consent_log', 'events'])

/** What a request may read: `auto` (the rollup chosen as today), `rollup`, or `raw` (`events`, only within the raw retention). */
export const StatsSourceParam = z.enum(['auto', 'rollup', 'raw'])
export type StatsSourceParam = z.infer<typeof StatsSourceParam>

const SourceParam = StatsSourceParam.default('auto').describe('auto and rollup read the rollups; raw reads events (uniqExact), only within the raw retention (13 months)')

const RangeQuery = {
  site: z.string().min(1).max(63).optional().describe('a site of the key’s org; may be omitted when the org has one site'),
  from: StatsInstant.optional().describe('inclusive start; default 30 days before to'),
  to: StatsInstant.optional().describe('exclusive end; default tomorrow (UTC)'),
  filters: StatsFilters,
}

const GoalParam = StatsGoalParam

export const TimeseriesQuery = z.object({
  ...RangeQuery,
  interval: StatsInterval.default('day'),
  tz: StatsTimeZone,
  source: SourceParam,
  // An enum rather than z.stringbool(): the OpenAPI document then lists the values and the default.
  bounce: z
    .enum(['true', 'false'])
    .default('false')
    .describe('true adds bounce_rate to every bucket, read from raw events (each session’s events) whatever the source: slower, and null beyond the raw retention')
    .transform((v) => v === 'true'),
})
export type TimeseriesQuery = z.infer<typeof TimeseriesQuery>

export const BreakdownQuery = z.object({
  ...RangeQuery,
  dimension: StatsBreakdownDimension,
  goal: GoalParam.describe('adds conversions and conversion_rate to every row (not with dimension=goal)'),
  type: StatsEventType.optional().describe('only events of this type (e.g. pageview for top pages)'),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  source: SourceParam,
})
export type BreakdownQuery = z.infer<typeof BreakdownQuery>

export const AdoptionQuery = z.object({
  ...RangeQuery,
  feature: z.string().min(1).max(200).describe('the feature event name (type feature)'),
  interval: StatsInterval.default('day'),
  tz: StatsTimeZone,
  source: SourceParam,
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
  filters: z.string().nullable().optional().describe('the filters as given; null without'),
}

/** A rate (0–1) that is null when hidden. */
const HideableRate = z.number().min(0).max(1).nullable()

export const TimeseriesBucket = z.strictObject({
  t: z.string().describe('bucket start, wall time in tz (YYYY-MM-DD or YYYY-MM-DDTHH:00:00)'),
  hidden: z.boolean().describe('true when the bucket had fewer than k visitors: every count is null'),
  visitors: Hideable,
  pageviews: Hideable,
  events: Hideable,
  sessions: Hideable,
  bounce_rate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .optional()
    .describe(
      'only with bounce=true: sessions whose only event is one pageview / sessions with a pageview, each session in the bucket of its first event (raw events); null when hidden, beyond the raw retention, or from fewer than k visitors',
    ),
})
export const TimeseriesResponse = z.strictObject({
  ...Meta,
  interval: StatsInterval,
  tz: z.string(),
  source: StatsSource,
  until: z
    .string()
    .nullable()
    .optional()
    .describe('start of the last bucket that has begun (buckets starting in the future are not returned); null when none has'),
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

const RowExtras = {
  visits: z.number().int().min(0).optional().describe('distinct visits (sessions) with a kept event; visit-level dimensions and goal'),
  conversions: Hideable.optional().describe('only with goal: distinct visitors of this row who completed the goal; null when fewer than k (but not 0)'),
  conversion_rate: HideableRate.optional().describe('only with goal: conversions / visitors; null when conversions is'),
}
export const BreakdownRow = z.strictObject({ value: z.string(), visitors: z.number().int().min(0), events: z.number().int().min(0), ...RowExtras })
export const BreakdownResponse = z.strictObject({
  ...Meta,
  dimension: StatsBreakdownDimension,
  type: StatsEventType.nullable(),
  goal: z.string().nullable().optional().describe('the goal as given; null without'),
  source: StatsSource,
  rows: z.array(BreakdownRow).describe('top values by visitors, each seen by at least k visitors'),
  other: z
    .strictObject({ visitors: z.number().int().min(0), events: z.number().int().min(0), ...RowExtras })
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

/** One funnel step: `type:value` (a pageview's value is its path, any other type's its event name) or a bare event name of any type. */
export const FunnelStep = z.strictObject({ type: StatsEventType.nullable(), value: z.string().min(1).max(200) })
export type FunnelStep = z.infer<typeof FunnelStep>

/** `click:cta` → click named cta; `pageview:/pricing` → pageview of /pricing; `signup` (or an unknown prefix) → any event named so. */
export function parseFunnelStep(step: string): { type: z.infer<typeof StatsEventType> | null; value: string } {
  const colon = step.indexOf(':')
  const type = colon > 0 ? StatsEventType.safeParse(step.slice(0, colon)) : undefined
  return type?.success ? { type: type.data, value: step.slice(colon + 1) } : { type: null, value: step }
}

/** The step as written back in answers: `type:value`, or the bare name. */
export const funnelStepLabel = (s: FunnelStep): string => (s.type === null ? s.value : `${s.type}:${s.value}`)

export const FUNNEL_MIN_STEPS = 2
export const FUNNEL_MAX_STEPS = 8
export const FUNNEL_MAX_WINDOW_SECONDS = 86_400

export const FunnelQuery = z.object({
  ...RangeQuery,
  steps: z
    .string()
    .min(1)
    .max(2000)
    .describe('2–8 comma-separated steps, each type:value (pageview:/pricing, click:cta, feature:export-csv) or a bare event name of any type')
    .transform((s) => s.split(',').map((step) => parseFunnelStep(step.trim())))
    .pipe(z.array(FunnelStep).min(FUNNEL_MIN_STEPS).max(FUNNEL_MAX_STEPS)),
  window: z.coerce
    .number()
    .int()
    .min(1)
    .max(FUNNEL_MAX_WINDOW_SECONDS)
    .default(1800)
    .describe('seconds from a visitor’s first step within which the later steps must happen, in order'),
})
export type FunnelQuery = z.infer<typeof FunnelQuery>

export const FunnelStepResult = z.strictObject({
  step: z.string().describe('the step as type:value or a bare name'),
  type: StatsEventType.nullable(),
  value: z.string(),
  visitors: Hideable.describe('distinct visitors who reached this step, in order, within the window; null under k and after a hidden step'),
  conversion: z.number().min(0).max(1).nullable().describe('visitors / the previous step’s visitors; null for the first step or when either is hidden'),
})
export const FunnelResponse = z.strictObject({
  ...Meta,
  window: z.number().int().min(1),
  source: StatsSource,
  steps: z.array(FunnelStepResult),
})
export type FunnelResponse = z.infer<typeof FunnelResponse>

export const CohortInterval = z.enum(['week', 'month'])
export type CohortInterval = z.infer<typeof CohortInterval>

export const CohortsQuery = z.object({
  ...RangeQuery,
  feature: z.string().min(1).max(200).describe('the feature event name (type feature)'),
  interval: CohortInterval.default('week').describe('cohort and return periods: weeks (from Monday) or months, UTC'),
})
export type CohortsQuery = z.infer<typeof CohortsQuery>

export const CohortCell = z.strictObject({
  t: z.string().describe('start of the later period'),
  offset: z.number().int().min(1).describe('periods after the cohort’s'),
  accounts: Hideable.describe('accounts of the cohort that used the feature in this period; null under k'),
})
export const Cohort = z.strictObject({
  cohort: z.string().describe('start of the period of first use within the range'),
  hidden: z.boolean().describe('true when the cohort has fewer than k accounts: every count is null'),
  accounts: Hideable.describe('accounts whose first use in the range fell in this period'),
  retained: z.array(CohortCell).describe('one cell per later period in the range'),
})
export const CohortsResponse = z.strictObject({
  ...Meta,
  feature: z.string(),
  interval: CohortInterval,
  source: StatsSource,
  periods: z.array(z.string()).describe('start of every period the range touches'),
  cohorts: z.array(Cohort),
})
export type CohortsResponse = z.infer<typeof CohortsResponse>

export const AggregateQuery = z.object({
  ...RangeQuery,
  tz: StatsTimeZone,
  goal: GoalParam.describe('adds conversions and conversion_rate'),
  compare: z.enum(['previous_period']).optional().describe('previous_period: the same length immediately before from'),
})
export type AggregateQuery = z.infer<typeof AggregateQuery>

/** One headline number: value, and with compare its previous value and change. */
export const AggregateMetric = z.strictObject({
  value: z.number().nullable().describe('null when hidden'),
  previous: z.number().nullable().optional().describe('only with compare: the previous period’s value; null when hidden there'),
  change: z
    .number()
    .nullable()
    .optional()
    .describe('only with compare: (value − previous) / previous for counts and durations, value − previous for rates (0–1 points); null when previous is 0 or either is hidden'),
})
export type AggregateMetric = z.infer<typeof AggregateMetric>

export const AGGREGATE_METRICS = [
  'visitors',
  'visits',
  'pageviews',
  'events',
  'views_per_visit',
  'bounce_rate',
  'visit_duration_median',
  'visit_duration_mean',
] as const
export const GOAL_METRICS = ['conversions', 'conversion_rate'] as const
/** Metrics whose change is a difference in points rather than a ratio. */
export const RATE_METRICS: readonly string[] = ['bounce_rate', 'conversion_rate']

export const AggregateResponse = z.strictObject({
  org_id: z.string(),
  site: z.string(),
  from: z.string(),
  to: z.string(),
  tz: z.string(),
  k: z.number().int().min(1),
  source: z.literal('events'),
  filters: z.string().nullable(),
  goal: z.string().nullable(),
  compare: z.strictObject({ from: z.string(), to: z.string() }).nullable(),
  hidden: z.boolean().describe('true when the range (under the filters) has fewer than k visitors, or a != / !~ filter removed between 1 and k−1 visitors: every value is null'),
  metrics: z.strictObject({
    visitors: AggregateMetric.describe('distinct visitors over the whole range'),
    visits: AggregateMetric.describe('distinct visits (sessions) with a kept event'),
    pageviews: AggregateMetric,
    events: AggregateMetric,
    views_per_visit: AggregateMetric.describe('pageviews / visits'),
    bounce_rate: AggregateMetric.describe('visits whose only event is one pageview / visits with a pageview (0–1)'),
    visit_duration_median: AggregateMetric.describe('seconds from a visit’s first to its last event, median over visits'),
    visit_duration_mean: AggregateMetric.describe('seconds, mean over visits'),
    conversions: AggregateMetric.optional().describe('only with goal: distinct visitors who completed it'),
    conversion_rate: AggregateMetric.optional().describe('only with goal: conversions / visitors (0–1)'),
  }),
})
export type AggregateResponse = z.infer<typeof AggregateResponse>

export const GoalsQuery = z.object({ site: RangeQuery.site })
export type GoalsQuery = z.infer<typeof GoalsQuery>
export const GoalDescription = z.strictObject({
  name: z.string(),
  kind: z.enum(['event', 'page']),
  match: z.string().describe('the event name, or the page pattern (* any characters but /, ** any characters)'),
})
export const GoalsResponse = z.strictObject({ org_id: z.string(), site: z.string(), goals: z.array(GoalDescription) })
export type GoalsResponse = z.infer<typeof GoalsResponse>

export const StatsSite = z.strictObject({ id: z.string(), allowed_origins: z.array(z.string()), consent_mode: SiteMode })
export const SitesResponse = z.strictObject({ org_id: z.string(), sites: z.array(StatsSite) })
export type SitesResponse = z.infer<typeof SitesResponse>

export const StatsError = z.strictObject({
  error: z.string().describe('a reason code: invalid_date, invalid_timezone, invalid_range, invalid_request, unauthorized, forbidden, not_found, timeout, warehouse_unavailable, internal'),
  message: z.string(),
  param: z.string().optional().describe('the query parameter at fault, for a 400'),
  query_id: z.string().optional().describe('the warehouse query that failed, for a 5xx: operators find it in the warehouse’s query log'),
}).describe('every refusal and failure of the stats API')
