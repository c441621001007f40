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

/** Filtered cases first (issue 15's targets), then the unfiltered ones of the earlier baseline. */
export function runsOf(cases: readonly Case[]): Run[] {
  return cases.flatMap((c) =>
    c.sources.map((source) => {
      const query = [c.query, source ? `source=${source}` : ''].filter(Boolean).join('&')
      return { case: c, source, path: `/v1/stats/${c.endpoint}${query ? `?${query}` : ''}` }
    }),
  )
}

/** Two filters, one event-level and one visit-level, rotated over the cases: realistic selectivity, never a no-op. */
export const FILTERS = {
  countryChannel: 'country==DE;channel==Organic Search',
  campaignPage: 'utm_campaign==spring;url_path==/pricing',
  sourceDevice: 'utm_source==google|newsletter;device_type==desktop',
  entryBrowser: 'entry_page==/;browser==Chrome',
  /** The product site has no tagged visits: an account's plan (a feature event's prop) and a country. */
  app: 'props.plan==team|enterprise;country==US|DE|GB',
  appAdoption: 'country==US|DE|GB;device_type==desktop',
} as const

/** Goals the bench tenants file configures on both sites (a signup event and a page). */
export const BENCH_GOALS = [
  { name: 'Signup', event: 'signup_completed' },
  { name: 'Pricing', page: '/pricing' },
] as const

const NEW_DIMENSIONS = ['entry_page', 'exit_page', 'channel', 'utm_source', 'utm_campaign'] as const

/** Issue 15's cases: every endpoint with two filters over 30 and 90 days (targets p95 ≤ 300 ms and ≤ 600 ms), plus realtime. */
export function filteredCases(o: { endDayMs: number; web: string; app: string; feature: string }): Case[] {
  const range = (days: number) => `from=${day(o.endDayMs - days * DAY_MS)}&to=${day(o.endDayMs)}`
  const f = (filters: string) => `filters=${encodeURIComponent(filters)}`
  const web = `site=${o.web}`
  const app = `site=${o.app}`
  return [30, 90].flatMap((days): Case[] => {
    const r = `${range(days)}`
    const d = `${days} days`
    return [
      { endpoint: 'aggregate', label: `${FILTERS.countryChannel}, ${d}`, query: `${web}&${r}&${f(FILTERS.countryChannel)}`, sources: ONE },
      { endpoint: 'aggregate', label: `${FILTERS.campaignPage}, compare, goal Signup, ${d}`, query: `${web}&${r}&${f(FILTERS.campaignPage)}&compare=previous_period&goal=Signup`, sources: ONE },
      { endpoint: 'timeseries', label: `day, ${FILTERS.countryChannel}, ${d}`, query: `${web}&${r}&interval=day&${f(FILTERS.countryChannel)}`, sources: ONE },
      { endpoint: 'breakdown', label: `url_path (pageview), ${FILTERS.sourceDevice}, ${d}`, query: `${web}&${r}&dimension=url_path&type=pageview&limit=10&${f(FILTERS.sourceDevice)}`, sources: ONE },
      { endpoint: 'breakdown', label: `country, ${FILTERS.campaignPage}, ${d}`, query: `${web}&${r}&dimension=country&limit=10&${f(FILTERS.campaignPage)}`, sources: ONE },
      ...NEW_DIMENSIONS.map((dimension) => {
        // A visit-level dimension filtered by itself would be one row: filter it by the other pair.
        const filters = dimension === 'channel' ? FILTERS.sourceDevice : FILTERS.countryChannel
        return { endpoint: 'breakdown', label: `${dimension}, ${filters}, ${d}`, query: `${web}&${r}&dimension=${dimension}&limit=10&${f(filters)}`, sources: ONE }
      }),
      { endpoint: 'breakdown', label: `goal, ${FILTERS.entryBrowser}, ${d}`, query: `${web}&${r}&dimension=goal&${f(FILTERS.entryBrowser)}`, sources: ONE },
      { endpoint: 'breakdown', label: `channel with goal Signup, ${FILTERS.entryBrowser}, ${d}`, query: `${web}&${r}&dimension=channel&goal=Signup&limit=10&${f(FILTERS.entryBrowser)}`, sources: ONE },
      { endpoint: 'breakdown', label: `props.plan (feature), ${FILTERS.app}, ${d}`, query: `${app}&${r}&dimension=props.plan&type=feature&${f(FILTERS.app)}`, sources: ONE },
      { endpoint: 'adoption', label: `${o.feature}, day, ${FILTERS.appAdoption}, ${d}`, query: `${app}&${r}&feature=${o.feature}&interval=day&${f(FILTERS.appAdoption)}`, sources: ONE },
      { endpoint: 'adoption/cohorts', label: `${o.feature}, week, ${FILTERS.appAdoption}, ${d}`, query: `${app}&${r}&feature=${o.feature}&interval=week&${f(FILTERS.appAdoption)}`, sources: ONE },
      { endpoint: 'funnel', label: `4 steps, 30 min, ${FILTERS.entryBrowser}, ${d}`, query: `${web}&${r}&steps=${encodeURIComponent(SIGNUP_FUNNEL)}&window=1800&${f(FILTERS.entryBrowser)}`, sources: ONE },
    ]
  }).concat([
    { endpoint: 'realtime', label: 'last 30 minutes', query: web, sources: ONE },
    { endpoint: 'realtime/integration', label: 'last 30 minutes', query: web, sources: ONE },
  ])
}
