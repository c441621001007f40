import { z } from 'zod'

/** Minutes the realtime series covers: one bucket each, ending with the current (UTC) minute. */
export const REALTIME_MINUTES = 30
/** The window of realtime's distinct-visitor headline. */
export const REALTIME_VISITORS_MINUTES = 5
/** The integration view's window, by receipt time. */
export const INTEGRATION_WINDOW_MINUTES = 30
/** Most (type, name) rows the integration view lists per audience: a bot inventing names cannot inflate the answer. */
export const INTEGRATION_MAX_NAMES = 100

const Site = z.string().min(1).max(63).optional().describe('a site of the key’s org; may be omitted when the org has one site')

export const RealtimeQuery = z.object({ site: Site })
export type RealtimeQuery = z.infer<typeof RealtimeQuery>

export const IntegrationQuery = z.object({ site: Site })
export type IntegrationQuery = z.infer<typeof IntegrationQuery>

/** `format=csv` on every stats endpoint; json (the default) is the answer as documented. */
export const StatsFormat = z.enum(['json', 'csv'])
export type StatsFormat = z.infer<typeof StatsFormat>

/** A count that is null when hidden by k-anonymity (0 is shown as 0: nobody is behind it). */
const Hideable = z.number().int().min(0).nullable()

export const RealtimeMinute = z.strictObject({
  t: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/).describe('minute start, UTC (YYYY-MM-DDTHH:MM)'),
  events: Hideable.describe('human events with ts in this minute; null when fewer than k visitors (but more than none) sent them'),
  visitors: Hideable.describe('distinct visitors with an event in this minute; null under k'),
})

export const RealtimeResponse = z.strictObject({
  org_id: z.string(),
  site: z.string(),
  k: z.number().int().min(1).describe('the k-anonymity threshold applied'),
  now: z.string().describe('the server time the window ends at (ISO 8601, UTC)'),
  visitors_5m: Hideable.describe(`distinct visitors with an event in the last ${REALTIME_VISITORS_MINUTES} minutes; null under k`),
  hidden: z.boolean().describe('true when visitors_5m is hidden (fewer than k visitors, more than none)'),
  minutes: z.array(RealtimeMinute).length(REALTIME_MINUTES).describe(`the last ${REALTIME_MINUTES} minutes, oldest first, every one present`),
})
export type RealtimeResponse = z.infer<typeof RealtimeResponse>

export const IntegrationName = z.strictObject({
  type: z.string().describe('the event type'),
  name: z.string().describe('the event name (empty for a pageview)'),
  events: Hideable.describe('events of this type and name; for humans null when fewer than k visitors sent them'),
})

export const IntegrationResponse = z.strictObject({
  org_id: z.string(),
  site: z.string(),
  window_minutes: z.number().int().min(1).describe('events received in the last window_minutes minutes'),
  last_event_at: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
    .nullable()
    .describe('when the latest event of the window (human or bot) was received, to the second; null when none was'),
  humans: z.strictObject({
    events: Hideable.describe('every human event of the window; null (hidden) when fewer than k visitors sent them'),
    hidden: z.boolean(),
    by_name: z
      .array(IntegrationName.extend({ events: Hideable }))
      .max(INTEGRATION_MAX_NAMES)
      .describe('per type and name, most events first, hidden ones last; a count is null under k, and so is the smallest shown one when the hidden ones together have fewer than k visitors'),
  }),
  bots: z.strictObject({
    events: z.number().int().min(0).describe('events flagged as bots (headless browsers, crawlers), counted exactly: no person is behind them'),
    by_name: z.array(IntegrationName.extend({ events: z.number().int().min(0) })).max(INTEGRATION_MAX_NAMES),
  }),
})
export type IntegrationResponse = z.infer<typeof IntegrationResponse>
