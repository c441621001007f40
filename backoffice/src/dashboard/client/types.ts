// Shapes of the stats API answers the page reads beyond those already in @atspark/schemas (issue 15's
// contract): the page only reads them, the back office validates them with its zod schemas.
import type { BreakdownResponse } from '@atspark/schemas'

export type { IntegrationResponse, RealtimeResponse } from '@atspark/schemas'

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
