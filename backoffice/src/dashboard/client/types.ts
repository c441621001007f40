// Shapes of the stats API answers the page reads beyond those already in @atspark/schemas (issue 15's
// contract): the page only reads them, the back office validates them with its zod schemas.
import type { BreakdownResponse } from '@atspark/schemas'

export type Hideable = number | null

export interface Metric {
  value: Hideable
  previous?: Hideable
  change?: number | null
}

export type MetricName =
  | 'visitors'
  | 'visits'
  | 'pageviews'
  | 'events'
  | 'views_per_visit'
  | 'bounce_rate'
  | 'visit_duration_median'
  | 'visit_duration_mean'
  | 'conversions'
  | 'conversion_rate'

export interface AggregateResponse {
  org_id: string
  site: string
  from: string
  to: string
  k: number
  filters: string | null
  goal?: string | null
  compare: { from: string; to: string } | null
  hidden: boolean
  metrics: Partial<Record<MetricName, Metric>>
}

/** A breakdown row as issue 15 extends it: visit-level dimensions add visits, a goal adds conversions. */
export interface Row {
  value: string
  visitors: number
  events: number
  visits?: number
  conversions?: Hideable
  conversion_rate?: number | null
}

export type Breakdown = Omit<BreakdownResponse, 'dimension' | 'rows'> & { dimension: string; rows: Row[] }

export interface RealtimeResponse {
  org_id: string
  site: string
  k: number
  now: string
  visitors_5m: Hideable
  hidden: boolean
  minutes: { t: string; events: Hideable; visitors: Hideable }[]
}

export interface IntegrationResponse {
  org_id: string
  site: string
  window_minutes: number
  last_event_at: string | null
  humans: { events: Hideable; hidden: boolean; by_name: { type: string; name: string; events: Hideable }[] }
  bots: { events: number; by_name: { type: string; name: string; events: number }[] }
}

export interface Goal {
  name: string
  kind: 'event' | 'page'
  match: string
}

export interface GoalsResponse {
  org_id: string
  site: string
  goals: Goal[]
}
