/** What the benchmark asks the stats API: every endpoint, each path (rollup, raw) it has, over ranges analysts use. */

/** `source` values of /timeseries, /breakdown and /adoption; undefined for endpoints with one path. */
export type SourceParam = 'rollup' | 'raw'

export interface Case {
  endpoint: string
  label: string
  /** Query string without `source`. */
  query: string
  sources: readonly (SourceParam | undefined)[]
}

export interface Run {
  case: Case
  source: SourceParam | undefined
  path: string
}

const DAY_MS = 86_400_000
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const BOTH = ['rollup', 'raw'] as const
const ONE = [undefined] as const

/** The funnel a marketing site asks about: home, pricing, signup page, signed up (in order, within 30 minutes). */
const SIGNUP_FUNNEL = 'pageview:/,pageview:/pricing,pageview:/signup,custom:signup_completed'
const DIMENSIONS = [
  ['url_path', 'pageview'],
  ['referrer_host', undefined],
  ['country', undefined],
  ['browser', undefined],
  ['os', undefined],
  ['device_type', undefined],
  ['name', 'click'],
] as const

export function statsCases(o: { endDayMs: number; web: string; app: string; feature: string }): Case[] {
  const range = (days: number) => `from=${day(o.endDayMs - days * DAY_MS)}&to=${day(o.endDayMs)}`
  const web = `site=${o.web}`
  const app = `site=${o.app}`
  return [
    { endpoint: 'timeseries', label: 'day, 30 days', query: `${web}&${range(30)}&interval=day`, sources: BOTH },
    // The bounce rate reads each session's raw events whatever the source: what asking for it costs.
    { endpoint: 'timeseries', label: 'day, 30 days, bounce=true', query: `${web}&${range(30)}&interval=day&bounce=true`, sources: BOTH },
    { endpoint: 'timeseries', label: 'day, 90 days', query: `${web}&${range(90)}&interval=day`, sources: BOTH },
    { endpoint: 'timeseries', label: 'hour, 7 days', query: `${web}&${range(7)}&interval=hour`, sources: BOTH },
    { endpoint: 'timeseries', label: 'day, 30 days, America/New_York', query: `${web}&${range(30)}&interval=day&tz=America/New_York`, sources: BOTH },
    ...DIMENSIONS.map(([dimension, type]) => ({
      endpoint: 'breakdown',
      label: `${dimension}${type ? ` (${type})` : ''}, 30 days`,
      query: `${web}&${range(30)}&dimension=${dimension}${type ? `&type=${type}` : ''}&limit=10`,
      sources: BOTH,
    })),
    { endpoint: 'adoption', label: `${o.feature}, day, 30 days`, query: `${app}&${range(30)}&feature=${o.feature}&interval=day`, sources: BOTH },
    { endpoint: 'adoption/cohorts', label: `${o.feature}, week, 90 days`, query: `${app}&${range(90)}&feature=${o.feature}&interval=week`, sources: ONE },
    { endpoint: 'funnel', label: '4 steps, 30 min, 30 days', query: `${web}&${range(30)}&steps=${encodeURIComponent(SIGNUP_FUNNEL)}&window=1800`, sources: ONE },
    { endpoint: 'funnel', label: '4 steps, 30 min, 90 days', query: `${web}&${range(90)}&steps=${encodeURIComponent(SIGNUP_FUNNEL)}&window=1800`, sources: ONE },
    { endpoint: 'consent', label: '90 days', query: `${web}&${range(90)}`, sources: ONE },
    { endpoint: 'sites', label: 'the org’s sites', query: '', sources: ONE },
  ]
}

export function runsOf(cases: readonly Case[]): Run[] {
  return cases.flatMap((c) =>
    c.sources.map((source) => {
      const query = [c.query, source ? `source=${source}` : ''].filter(Boolean).join('&')
      return { case: c, source, path: `/v1/stats/${c.endpoint}${query ? `?${query}` : ''}` }
    }),
  )
}
