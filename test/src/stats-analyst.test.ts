import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { batch, post } from './support/batches.js'
import { type RunningPipeline, startPipeline } from './support/pipeline.js'
import { seededRandom, suiteSeed } from './support/seeded-random.js'
import {
  CLIENTS,
  fixture,
  GOALS,
  K,
  KEYS,
  ORG_ID,
  ORGS,
  ORIGIN,
  type Org,
  PREVIOUS,
  RANGE,
  realtimeVisits,
  SITE,
  type SentVisit,
  analystEvents,
  TENANTS,
  WIDE,
  WRITE_KEY,
} from './support/stats-fixture.js'
import * as ref from './support/stats-reference.js'

// Issue 15 end to end: the analyst's questions (aggregate with compare, breakdowns by every dimension, timeseries,
// funnel, adoption, cohorts, goals) under a table of filters, each answer equal to the reference computed in plain
// TypeScript from the events this suite sent (stats-reference.ts), exactly where the API reads raw events. The traffic
// (stats-fixture.ts) goes through the real ingest of the embedded pipeline: two orgs with the same site id, anon ids
// and session ids; groups of exactly k−1 and k visitors on chosen values; one visitor alone on a unique combination,
// who must never be shown; bots, never counted. Seeded: ATSPARK_TEST_SEED=<n> replays a failure.

const SEED = suiteSeed()
const rnd = seededRandom(SEED)
const { visits: VISITS, events: EVENTS } = fixture(rnd)
const GOAL_LIST: ref.Goal[] = GOALS.map((g) => ({ ...g }))
let REALTIME: SentVisit[] = []
let pipeline: RunningPipeline

/** An org's events in a range, as the API scopes them (its org, the site, the range, no bots). */
const scope = (org: Org, r: { from: string; to: string } = RANGE) => ref.scoped(EVENTS, { org: ORG_ID[org], site: SITE, ...r })
/** Every event of an org's site whatever its time: visits are measured whole, across a range's edges. */
const whole = (org: Org) => EVENTS.filter((e) => e.org === ORG_ID[org] && e.site === SITE)
/** Both orgs' events as if they were one org's: what a query that lost its org filter would read. */
const leaked = (r: { from: string; to: string } = RANGE) => [...scope('a', r), ...scope('b', r).map((e) => ({ ...e, org: ORG_ID.a }))]

async function sendVisit(v: SentVisit): Promise<void> {
  const client = CLIENTS[v.plan.client]
  const res = await post(pipeline.ingest, batch(v.events, { k: WRITE_KEY[v.plan.org], sa: Date.now() }), {
    origin: ORIGIN[v.plan.org],
    headers: { 'user-agent': client.ua, 'x-forwarded-for': client.ip },
  })
  expect(res.status, `${v.plan.org} ${v.plan.visitor} (seed ${SEED}): ${await res.clone().text()}`).toBe(202)
  expect(await res.json()).toMatchObject({ accepted: v.events.length })
}

interface Answer {
  status: number
  body: Record<string, unknown>
  text: string
}

async function get(org: Org, path: string): Promise<Answer> {
  const res = await fetch(`${pipeline.backoffice}/v1/stats/${path}`, { headers: { authorization: `Bearer ${KEYS[org]}` } })
  const text = await res.text()
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    // CSV and errors without JSON are read as text.
  }
  return { status: res.status, body, text }
}

/** Answers asked ahead (prefetch), so a test's questions run a few at a time while it checks them in order. */
const ahead = new Map<string, Promise<Answer>>()
const IN_FLIGHT = 4

function prefetch(org: Org, paths: readonly string[]): void {
  const queue = paths.filter((path) => !ahead.has(`${org} ${path}`))
  const gates = queue.map(() => {
    let open = () => {}
    const gate = new Promise<void>((r) => (open = r))
    return { gate, open }
  })
  queue.forEach((path, i) => {
    const answer = (i < IN_FLIGHT ? Promise.resolve() : (gates[i - IN_FLIGHT]?.gate ?? Promise.resolve())).then(() => get(org, path))
    void answer.finally(() => gates[i]?.open())
    ahead.set(`${org} ${path}`, answer)
  })
}

async function ask(org: Org, path: string): Promise<Record<string, unknown>> {
  const key = `${org} ${path}`
  const answer = await (ahead.get(key) ?? get(org, path))
  ahead.delete(key)
  expect(answer.status, `${org}: ${path} (seed ${SEED}): ${answer.text}`).toBe(200)
  expect(answer.body.org_id).toBe(ORG_ID[org])
  return answer.body
}

const q = (params: Record<string, string | number | undefined>) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([key, v]) => `${key}=${encodeURIComponent(String(v))}`)
    .join('&')

beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'atspark-analyst-')), 'tenants.json')
  writeFileSync(file, JSON.stringify(TENANTS))
  pipeline = await startPipeline({ ATSPARK_TENANTS_FILE: file, STATS_K_ANONYMITY: String(K) })
  const started = Date.now()
  try {
    // Four visits in flight at a time, in the seed's order.
    const queue = [...VISITS]
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let v = queue.shift(); v !== undefined; v = queue.shift()) await sendVisit(v)
    }))
    REALTIME = realtimeVisits(rnd, Date.now())
    for (const v of REALTIME) await sendVisit(v)
    const loaded = Date.now()
    // Ready when every org's raw daily events over both periods equal what was sent.
    const deadline = Date.now() + 30_000
    for (const org of ORGS) {
      const want = ref.timeseries(scope(org, WIDE), { ...WIDE, interval: 'day' }, K)
      for (;;) {
        const got = await ask(org, `timeseries?${q({ site: SITE, ...WIDE, interval: 'day', source: 'raw' })}`)
        if (JSON.stringify(got.buckets) === JSON.stringify(want)) break
        if (Date.now() > deadline) expect(got.buckets, `${org}: rows never arrived (seed ${SEED})`).toEqual(want)
        await new Promise((r) => setTimeout(r, 250))
      }
    }
    console.log(`stats-analyst: ${EVENTS.length} events sent, stored and read back in ${Date.now() - started} ms (${loaded - started} ms sending), seed ${SEED}`)
  } catch (err) {
    console.error(`stats-analyst: loading failed with seed ${SEED} (ATSPARK_TEST_SEED=${SEED} replays it)\n${pipeline.output().slice(-4000)}`)
    throw err
  }
}, 120_000)

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => console.error(`stats-analyst: failed with seed ${SEED} (ATSPARK_TEST_SEED=${SEED} replays it)`))
})

afterAll(async () => {
  await pipeline?.stop()
})

/**
 * Filters every endpoint is asked under: single clauses, two clauses, negations, alternatives, contains, props, goals,
 * visit-level and event-level mixed. Comments give org A's visitors the filter keeps (K = 5).
 */
const FILTERS = [
  '', // 31 visitors
  'country==DE', // 9: cpc 5 + partner 4
  'country==DE|FR', // 15
  'country!=US', // complement 9: shown
  'browser!=Mobile Safari', // complement 4 (t.co): hidden
  'url_path==/pricing', // v0–v4, cpc 5, email 6, the lone visitor: 17
  'url_path=~PRIC', // contains, any case: /pricing and /pricing/team
  'url_path!~docs', // complement: google v0–v4 and partner, shown
  'channel==Paid Search', // exactly k
  'channel==Organic Social', // k−1: hidden
  'channel==Referral', // partner 4 + lone 1 = k
  'channel!=Direct', // complement: direct 5 + v0–v2's day-2 visits (their events only)
  'utm_source==google;country==DE', // 5
  'utm_campaign==spring|weekly', // 11
  'utm_term==analytics', // 5
  'utm_content==someone@example.com', // an e-mail address is never kept: nobody
  'entry_page==/;exit_page==/signup', // email 6
  'exit_page!=/', // complement: bounces on / (direct 5)
  'props.plan==pro', // cpc 5 + partner 4
  'props.plan==pro|free;name==signup', // 11
  'props.plan!=free', // complement 6
  'goal==Signup', // 12 converters
  'goal==Pricing', // /pricing exactly (the glob stops at /)
  'goal!=Signup', // complement 12
  'channel==Organic Search;url_path==/pricing', // v0–v4 (visit level and event level)
  'utm_medium==cpc;props.plan==pro', // 5
  'device_type==desktop;os!=Windows', // Firefox and Safari desktops
  'type==custom', // 12
  'name=~SIGN', // 12
  'referrer_host==t.co', // k−1
]

/** Filters that single out org A's lone visitor (v60): every answer under them is hidden, never their values. */
const ISOLATING = [
  'country==JP',
  'utm_source==lonely',
  'entry_page==/lonely',
  'props.plan==enterprise',
  'referrer_host==lonely.example',
  'browser==Firefox;country!=DE',
  'utm_campaign==solo;url_path==/signup',
  'country!=JP',
  'url_path!=/lonely',
  'utm_source!=lonely',
]

const ALL_DIMENSIONS: ref.AnalystDimension[] = [...ref.EVENT_DIMENSIONS, ...ref.VISIT_DIMENSIONS, 'props.plan', 'goal']

/** Integer counts exact; rates and durations to 1e-9 (floats summed in another order). */
function expectClose(got: unknown, want: unknown, label: string): void {
  if (typeof want === 'number' && !Number.isInteger(want) && typeof got === 'number') {
    expect(got, label).toBeCloseTo(want, 9)
    return
  }
  if (want !== null && typeof want === 'object' && got !== null && typeof got === 'object') {
    expect(Object.keys(got as object).sort(), label).toEqual(Object.keys(want as object).sort())
    for (const key of Object.keys(want as object)) expectClose((got as Record<string, unknown>)[key], (want as Record<string, unknown>)[key], `${label}.${key}`)
    return
  }
  expect(got, label).toEqual(want)
}

function aggregateReference(org: Org, filters: string, opts: { goal?: string; compare?: boolean; events?: ref.AnalystEvent[]; previous?: ref.AnalystEvent[] } = {}) {
  const goal = opts.goal === undefined ? undefined : ref.resolveGoal(opts.goal, GOAL_LIST)
  const current = ref.metrics(ref.applyFilters(opts.events ?? scope(org), filters, GOAL_LIST, K, opts.events ?? whole(org)), K, goal)
  if (!opts.compare) return { hidden: current.hidden, metrics: Object.fromEntries(Object.entries(current.metrics).map(([key, value]) => [key, { value }])) }
  const previous = ref.metrics(ref.applyFilters(opts.previous ?? scope(org, PREVIOUS), filters, GOAL_LIST, K, opts.previous ?? whole(org)), K, goal)
  return { hidden: current.hidden, metrics: ref.compared(current.metrics, previous.metrics) }
}

describe('the fixture tells right from wrong', () => {
  it('has the promised groups: k−1 and k on chosen values, one visitor alone, bots apart', () => {
    const visitors = (filters: string) => ref.metrics(ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a')), K).metrics.visitors
    const raw = (filters: string) => {
      const f = ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a'))
      return new Set(f.kept.map((e) => e.anon)).size
    }
    expect(raw('channel==Paid Search')).toBe(K)
    expect(raw('channel==Organic Social')).toBe(K - 1)
    expect(raw('channel==Referral')).toBe(K)
    expect(raw('referrer_host==blog.partner.example')).toBe(K - 1)
    expect(raw('props.plan==pro')).toBe(2 * K - 1)
    expect(raw('goal==Signup')).toBe(12)
    for (const f of ISOLATING.filter((x) => !x.includes('!='))) expect(raw(f), f).toBe(1)
    for (const f of ISOLATING) expect(visitors(f), f).toBeNull()
    expect(raw('utm_content==someone@example.com')).toBe(0)
    // Bots are in what was sent and out of every scope.
    expect(EVENTS.some((e) => e.bot && e.org === ORG_ID.a)).toBe(true)
    expect(scope('a').some((e) => e.bot)).toBe(false)
    // Channels: the known expectations, per visit.
    const channels = [...ref.visitsOf(scope('a')).values()].map((v) => `${v.anon}:${v.channel}`)
    expect(channels).toEqual(expect.arrayContaining(['anon_v0:Organic Search', 'anon_v10:Paid Search', 'anon_v20:Organic Social', 'anon_v30:Email', 'anon_v40:Direct', 'anon_v50:Referral', 'anon_v60:Referral']))
  })

  it('visits across the range’s edges: measured only inside the range, the answers would differ', () => {
    for (const [filters, r] of [
      ['', RANGE],
      ['entry_page==/blog/post-1', RANGE],
      ['', PREVIOUS],
    ] as const) {
      const measure = (events: ref.AnalystEvent[]) => ref.metrics(ref.applyFilters(scope('a', r), filters, GOAL_LIST, K, events), K)
      expect(measure(whole('a')), `${filters} ${r.from}`).not.toEqual(measure(scope('a', r)))
    }
  })

  it('a query that read org B’s rows too would answer otherwise, for every filter', () => {
    // A filter the differencing guard hides whole in both readings cannot show a leak in its aggregate: /pricing/team's 2
    // visitors (=~ small values), partner's 4 in DE outside utm google, partner's 4 plan=pro downloads (not signup).
    const hiddenEitherWay = (filters: string) => aggregateReference('a', filters).hidden && aggregateReference('a', filters, { events: leaked() }).hidden
    const checked = [...FILTERS, ...ISOLATING].filter((f) => f !== 'utm_content==someone@example.com' && !(FILTERS.includes(f) && hiddenEitherWay(f)))
    expect(FILTERS.filter((f) => !checked.includes(f))).toEqual([
      'url_path=~PRIC',
      'utm_source==google;country==DE',
      'utm_content==someone@example.com',
      'props.plan==pro|free;name==signup',
    ])
    for (const filters of checked) {
      expect(aggregateReference('a', filters), filters).not.toEqual(aggregateReference('a', filters, { events: leaked() }))
    }
  })
})

describe('enrichment as the fixture assumes it (the rollup path, no filter)', () => {
  it('browser, os, device type, country and referrer host of every client, bots excluded', async () => {
    for (const dimension of ['browser', 'os', 'device_type', 'country', 'referrer_host', 'url_path'] as const) {
      for (const org of ORGS) {
        const got = await ask(org, `breakdown?${q({ site: SITE, ...RANGE, dimension, limit: 100 })}`)
        const want = ref.breakdown(scope(org), RANGE, { dimension, limit: 100 }, K)
        expect({ rows: got.rows, other: got.other }, `${org} ${dimension}`).toEqual(want)
      }
    }
  })
})

describe('aggregate', () => {
  it('every filter, with and without compare=previous_period: equal to the reference over the key org’s events', async () => {
    const path = (filters: string, compare: boolean) => `aggregate?${q({ site: SITE, ...RANGE, filters, compare: compare ? 'previous_period' : undefined })}`
    for (const org of ORGS) prefetch(org, FILTERS.flatMap((filters) => [path(filters, false), path(filters, true)]))
    for (const filters of FILTERS) {
      for (const compare of [false, true]) {
        for (const org of ORGS) {
          const got = await ask(org, path(filters, compare))
          const label = `${org}: aggregate filters=${filters} compare=${compare} (seed ${SEED})`
          expect(got.source, label).toBe('events')
          expect(got.filters ?? null, label).toEqual(filters === '' ? null : filters)
          expect(got.compare, label).toEqual(compare ? PREVIOUS : null)
          const want = aggregateReference(org, filters, { compare })
          expect(got.hidden, label).toBe(want.hidden)
          expectClose(got.metrics, want.metrics, label)
        }
      }
    }
  })

  it('with a goal (configured by name, or inline): conversions and conversion rate under filters', async () => {
    const goals = ['Signup', 'Pricing', 'event:download', 'page:/docs/**', 'page:/pricing']
    const filterList = ['', 'country==DE', 'channel!=Direct', 'props.plan==pro', 'utm_campaign==spring|weekly', 'country==JP']
    const path = (goal: string, filters: string) => `aggregate?${q({ site: SITE, ...RANGE, filters, goal, compare: 'previous_period' })}`
    prefetch('a', goals.flatMap((goal) => filterList.map((filters) => path(goal, filters))))
    for (const goal of goals) {
      for (const filters of filterList) {
        const got = await ask('a', path(goal, filters))
        const label = `aggregate goal=${goal} filters=${filters} (seed ${SEED})`
        expect(got.goal, label).toBe(goal)
        const want = aggregateReference('a', filters, { goal, compare: true })
        expect(got.hidden, label).toBe(want.hidden)
        expectClose(got.metrics, want.metrics, label)
      }
    }
  })
})

describe('breakdown', () => {
  it('every dimension under every filter: rows and "other" equal the reference; under k never named', async () => {
    // Every dimension under a third of the filters (rotating with the dimension), and every filter under a few dimensions.
    const pairs = [
      ...ALL_DIMENSIONS.flatMap((dimension, d) => FILTERS.filter((_, i) => i % 3 === d % 3).map((filters) => [dimension, filters] as const)),
      ...FILTERS.flatMap((filters) => (['url_path', 'channel', 'props.plan'] as const).map((dimension) => [dimension, filters] as const)),
    ]
    const path = (dimension: string, filters: string) => `breakdown?${q({ site: SITE, ...RANGE, dimension, filters, limit: 100 })}`
    prefetch('a', pairs.map(([dimension, filters]) => path(dimension, filters)))
    for (const [dimension, filters] of pairs) {
      const got = await ask('a', path(dimension, filters))
      const f = ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a'))
      const want = ref.analystBreakdown(f, { dimension, limit: 100, goals: GOAL_LIST }, K)
      const label = `breakdown dimension=${dimension} filters=${filters} (seed ${SEED})`
      expectClose({ rows: got.rows, other: got.other }, { rows: want.rows, other: want.other }, label)
    }
  })

  it('with limit, type and a goal (conversions per row)', async () => {
    const cases: { dimension: ref.AnalystDimension; type?: string; limit: number; goal?: string; filters: string }[] = [
      { dimension: 'url_path', type: 'pageview', limit: 2, filters: '' },
      { dimension: 'channel', limit: 2, filters: 'country!=US' },
      { dimension: 'entry_page', limit: 1, filters: '' },
      { dimension: 'country', limit: 10, goal: 'Signup', filters: '' },
      { dimension: 'channel', limit: 10, goal: 'Signup', filters: 'url_path!~blog' },
      { dimension: 'utm_source', limit: 10, goal: 'Pricing', filters: '' },
      { dimension: 'browser', limit: 10, goal: 'event:signup', filters: 'channel==Paid Search|Email' },
      { dimension: 'name', type: 'custom', limit: 10, filters: 'props.plan!=free' },
    ]
    for (const c of cases) {
      const got = await ask('a', `breakdown?${q({ site: SITE, ...RANGE, dimension: c.dimension, type: c.type, limit: c.limit, goal: c.goal, filters: c.filters })}`)
      const f = ref.applyFilters(scope('a'), c.filters, GOAL_LIST, K, whole('a'))
      const goal = c.goal === undefined ? undefined : ref.resolveGoal(c.goal, GOAL_LIST)
      const want = ref.analystBreakdown(f, { dimension: c.dimension, type: c.type, limit: c.limit, goal, goals: GOAL_LIST }, K)
      expectClose({ rows: got.rows, other: got.other }, { rows: want.rows, other: want.other }, `breakdown ${JSON.stringify(c)} (seed ${SEED})`)
    }
  })
})

describe('timeseries, funnel, adoption and cohorts under filters', () => {
  it('timeseries (day and hour buckets): every filter, raw events', async () => {
    const path = (filters: string, interval: string) => `timeseries?${q({ site: SITE, ...RANGE, interval, filters })}`
    prefetch('a', FILTERS.flatMap((filters) => [path(filters, 'day'), path(filters, 'hour')]))
    for (const filters of FILTERS) {
      for (const interval of ['day', 'hour'] as const) {
        const got = await ask('a', path(filters, interval))
        const f = ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a'))
        const want = filters === '' ? ref.timeseries(f.kept, { ...RANGE, interval }, K) : ref.filteredTimeseries(f, { ...RANGE, interval }, K)
        expect(got.source, filters).toBe(filters === '' ? 'rollup_dims_hourly' : 'events')
        expect(got.buckets, `timeseries interval=${interval} filters=${filters} (seed ${SEED})`).toEqual(want)
      }
    }
  })

  it('in another time zone (Asia/Tokyo): the range and buckets are wall time there, aggregate and timeseries alike', async () => {
    const tz = 'Asia/Tokyo'
    const cases = ['', 'channel!=Direct', 'country==DE|FR', 'entry_page==/', 'goal==Signup']
    const events = ref.scoped(EVENTS, { org: ORG_ID.a, site: SITE, ...RANGE, tz })
    // Tokyo's days hold other visits than UTC's: the zone must matter.
    expect(events.length).not.toBe(scope('a').length)
    for (const filters of cases) {
      const f = ref.applyFilters(events, filters, GOAL_LIST, K, whole('a'))
      for (const interval of ['day', 'hour'] as const) {
        const got = await ask('a', `timeseries?${q({ site: SITE, ...RANGE, tz, interval, filters, source: 'raw' })}`)
        const want = filters === '' ? ref.timeseries(f.kept, { ...RANGE, tz, interval }, K) : ref.filteredTimeseries(f, { ...RANGE, tz, interval }, K)
        expect(got.buckets, `timeseries tz=${tz} interval=${interval} filters=${filters} (seed ${SEED})`).toEqual(want)
      }
      const agg = await ask('a', `aggregate?${q({ site: SITE, ...RANGE, tz, filters })}`)
      const want = ref.metrics(f, K)
      expect(agg.hidden).toBe(want.hidden)
      expectClose(agg.metrics, Object.fromEntries(Object.entries(want.metrics).map(([key, value]) => [key, { value }])), `aggregate tz=${tz} filters=${filters} (seed ${SEED})`)
    }
  })

  it('timeseries with bounce=true under filters: each visit with a kept event, measured whole, in the bucket of its first event', async () => {
    const cases = ['', 'channel==Direct|Organic Social', 'url_path==/|/blog/post-1', 'country!=FR', 'props.plan==pro', 'entry_page==/']
    const path = (filters: string, interval: string) => `timeseries?${q({ site: SITE, ...RANGE, interval, filters, bounce: 'true', source: 'raw' })}`
    prefetch('a', cases.flatMap((filters) => [path(filters, 'day'), path(filters, 'hour')]))
    for (const filters of cases) {
      for (const interval of ['day', 'hour'] as const) {
        const got = (await ask('a', path(filters, interval))) as { buckets: { t: string; hidden: boolean; bounce_rate: number | null }[] }
        const f = ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a'))
        const buckets = ref.filteredTimeseries(f, { ...RANGE, interval }, K)
        const rates = ref.filteredBounceRates(f, buckets, { ...RANGE, interval }, K)
        expectClose(
          got.buckets,
          buckets.map((b, i) => ({ ...b, bounce_rate: rates[i] ?? null })),
          `timeseries bounce interval=${interval} filters=${filters} (seed ${SEED})`,
        )
      }
    }
  })

  it('funnel: / → /pricing → signup, per filter', async () => {
    const steps: ref.Step[] = [
      { type: 'pageview', value: '/' },
      { type: 'pageview', value: '/pricing' },
      { type: null, value: 'signup' },
    ]
    const path = (filters: string) => `funnel?${q({ site: SITE, ...RANGE, window: 86_400, steps: 'pageview:/,pageview:/pricing,signup', filters })}`
    prefetch('a', FILTERS.map(path))
    for (const filters of FILTERS) {
      const got = await ask('a', path(filters))
      const f = ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a'))
      const want = ref.funnel(f.kept, RANGE, steps, 86_400, K).map((s) => (f.complementHidden ? { visitors: null, conversion: null } : s))
      const steps_ = got.steps as { visitors: number | null; conversion: number | null }[]
      expectClose(
        steps_.map(({ visitors, conversion }) => ({ visitors, conversion })),
        want,
        `funnel filters=${filters} (seed ${SEED})`,
      )
    }
  })

  it('adoption and first-use cohorts of feature export, per filter', async () => {
    const path = (endpoint: string, filters: string) => `${endpoint}?${q({ site: SITE, ...WIDE, feature: 'export', filters })}`
    prefetch('a', FILTERS.flatMap((filters) => [path('adoption', filters), path('adoption/cohorts', filters)]))
    for (const filters of FILTERS) {
      const f = ref.applyFilters(scope('a', WIDE), filters, GOAL_LIST, K, whole('a'))
      const adoption = await ask('a', path('adoption', filters))
      const wantAdoption = filters === '' ? ref.adoption(f.kept, { ...WIDE, interval: 'day' }, 'export', K) : ref.filteredAdoption(f, { ...WIDE, interval: 'day' }, 'export', K)
      expect(adoption.buckets, `adoption filters=${filters} (seed ${SEED})`).toEqual(wantAdoption)
      const cohorts = await ask('a', path('adoption/cohorts', filters))
      const cohortsOf = ref.cohorts(f.kept, WIDE, 'export', 'week', K)
      // A != / !~ that singles out 1 to k−1 visitors of the range hides the whole table.
      const wantCohorts = f.complementHidden
        ? { ...cohortsOf, cohorts: cohortsOf.cohorts.map((c) => ({ ...c, hidden: true, accounts: null, retained: c.retained.map((cell) => ({ ...cell, accounts: null })) })) }
        : cohortsOf
      expect({ periods: cohorts.periods, cohorts: cohorts.cohorts }, `cohorts filters=${filters} (seed ${SEED})`).toEqual(wantCohorts)
    }
  })
})

describe('k-anonymity under filters that isolate one visitor', () => {
  it('aggregate, breakdowns, timeseries, funnel: hidden or null everywhere, never the lone visitor’s values', async () => {
    const LONE = 'anon_v60'
    const paths = (filters: string) => [
      `aggregate?${q({ site: SITE, ...RANGE, filters, goal: 'Signup', compare: 'previous_period' })}`,
      ...ALL_DIMENSIONS.map((dimension) => `breakdown?${q({ site: SITE, ...RANGE, dimension, filters })}`),
      `timeseries?${q({ site: SITE, ...RANGE, interval: 'hour', filters })}`,
      `funnel?${q({ site: SITE, ...RANGE, steps: 'pageview:/pricing,pageview:/signup', filters })}`,
    ]
    prefetch('a', ISOLATING.flatMap(paths))
    for (const filters of ISOLATING) {
      const f = ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a'))
      // What the lone visitor did that this filter keeps (they alone pass it) or removes (a != singling them out): never shown.
      const negative = f.removed.flat().some((e) => e.anon === LONE)
      const lone = (negative ? f.removed.flat() : f.kept).filter((e) => e.anon === LONE)
      expect(lone.length, filters).toBeGreaterThan(0)
      const agg = await ask('a', `aggregate?${q({ site: SITE, ...RANGE, filters, goal: 'Signup', compare: 'previous_period' })}`)
      expect(agg.hidden, filters).toBe(true)
      for (const m of Object.values(agg.metrics as Record<string, { value: unknown }>)) expect(m.value, filters).toBeNull()
      for (const dimension of ALL_DIMENSIONS) {
        const bd = await ask('a', `breakdown?${q({ site: SITE, ...RANGE, dimension, filters })}`)
        const label = `${dimension} ${filters} (seed ${SEED})`
        if (!negative) {
          expect({ rows: bd.rows, other: bd.other }, label).toEqual({ rows: [], other: null })
          continue
        }
        // Under a != every row the lone visitor's removed events fall in is unnamed, and so is "other" if they fall there.
        const values = new Set(
          dimension === 'goal'
            ? GOAL_LIST.filter((g) => lone.some((e) => ref.completes(e, g))).map((g) => g.name)
            : lone.map((e) => ref.dimensionOf(e, dimension, f.visits.get(e.session))),
        )
        const named = (bd.rows as { value: string }[]).map((r) => r.value)
        expect(named.filter((v) => values.has(v)), label).toEqual([])
        if (dimension !== 'goal') expect(bd.other, label).toBeNull()
      }
      const ts = (await ask('a', `timeseries?${q({ site: SITE, ...RANGE, interval: 'hour', filters })}`)) as { buckets: { t: string; hidden: boolean }[] }
      const loneHours = new Set(lone.map((e) => ref.bucketLabel(e.ts, 'hour', 'UTC')))
      for (const b of ts.buckets) if (!negative || loneHours.has(b.t)) expect(b, `${filters} ${b.t}`).toMatchObject({ hidden: true, visitors: null, events: null })
      const funnel = await ask('a', `funnel?${q({ site: SITE, ...RANGE, steps: 'pageview:/pricing,pageview:/signup', filters })}`)
      for (const s of funnel.steps as { visitors: unknown }[]) expect(s.visitors, filters).toBeNull()
    }
  })

  it('no two shown answers differ by 1 to k−1 visitors: the lone visitor cannot be recovered by differencing', async () => {
    // Nested pairs [wider, narrower]: the narrower keeps a subset of the wider's events; what only the wider keeps is
    // the difference an analyst reads off two answers. Where that is 1 to k−1 visitors, one of the two must be hidden.
    const pairs: [string, string][] = [
      ['', 'country==GB|US|DE|FR'], // a list of every other country is country!=JP
      ['', 'country=~B|S|E|R'], // likewise by contains
      ['country==DE|JP', 'country==DE'], // adding an alternative adds the lone visitor
      ['props.plan==pro|enterprise', 'props.plan==pro'],
      ['url_path=~pric', 'url_path==/pricing'], // /pricing/team: 2 visitors
      ['country==DE', 'country==DE;browser==Firefox'], // Chrome in DE: 4 visitors
      ['channel==Referral', 'channel==Referral;country==DE'], // the lone visitor is the one Referral visit outside DE
      ['', 'country!=JP'], // the rule the API has: a != clause's complement
      ['channel==Direct|Organic Social', 'channel==Direct'], // a visit-level list: Organic Social is t.co's k−1
    ]
    const path = (filters: string) => `aggregate?${q({ site: SITE, ...RANGE, filters })}`
    prefetch('a', [...new Set(pairs.flat())].map(path))
    const leaks: string[] = []
    for (const [wide, narrow] of pairs) {
      const kept = (filters: string) => new Set(ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a')).kept.map((e) => e.id))
      const [w, n] = [ref.applyFilters(scope('a'), wide, GOAL_LIST, K, whole('a')).kept, kept(narrow)]
      const onlyWide = new Set(w.filter((e) => !n.has(e.id)).map((e) => e.anon)).size
      expect(onlyWide, `${wide} ⊃ ${narrow}`).toBeGreaterThanOrEqual(1)
      expect(onlyWide, `${wide} ⊃ ${narrow}`).toBeLessThan(K)
      type Agg = { hidden: boolean; metrics: Record<string, { value: number | null }> }
      const [a, b] = [(await ask('a', path(wide))) as Agg, (await ask('a', path(narrow))) as Agg]
      if (!a.hidden && !b.hidden) {
        const diff = (m: string) => (a.metrics[m]?.value ?? 0) - (b.metrics[m]?.value ?? 0)
        leaks.push(`[${wide}] − [${narrow}]: visitors ${diff('visitors')}, visits ${diff('visits')}, pageviews ${diff('pageviews')}, events ${diff('events')}`)
      }
    }
    expect(leaks, 'pairs of shown answers whose difference is 1 to k−1 visitors').toEqual([])
  })

  it('k−1 hidden and k shown on the same dimension: channels, referrers, countries', async () => {
    const agg = async (filters: string) => (await ask('a', `aggregate?${q({ site: SITE, ...RANGE, filters })}`)) as { hidden: boolean; metrics: { visitors: { value: number | null } } }
    expect((await agg('channel==Paid Search')).metrics.visitors.value).toBe(K)
    expect((await agg('channel==Referral')).metrics.visitors.value).toBe(K)
    expect((await agg('channel==Organic Social')).hidden).toBe(true)
    expect((await agg('referrer_host==blog.partner.example')).hidden).toBe(true)
    const channels = await ask('a', `breakdown?${q({ site: SITE, ...RANGE, dimension: 'channel' })}`)
    const named = (channels.rows as { value: string }[]).map((r) => r.value)
    expect(named).toEqual(expect.arrayContaining(['Paid Search', 'Referral']))
    expect(named).not.toContain('Organic Social')
  })
})

describe('bad input and edges', () => {
  it('a bad clause is a 400 invalid_filter naming it; filters with source=rollup and on /consent are refused', async () => {
    for (const [filters, named] of [
      ['country=DE', 'country=DE'],
      ['colour==red', 'colour'],
      ['props.==x', 'props.'],
      ['goal=~Sign', 'goal'],
      ['url_path==/a\\q', '\\'],
    ] as const) {
      const res = await get('a', `aggregate?${q({ site: SITE, ...RANGE, filters })}`)
      expect(res.status, `${filters}: ${res.text}`).toBe(400)
      expect(res.body).toMatchObject({ error: 'invalid_filter', param: 'filters' })
      expect(String(res.body.message)).toContain(named)
    }
    const tooMany = Array.from({ length: 11 }, (_, i) => `name==n${i}`).join(';')
    expect((await get('a', `breakdown?${q({ site: SITE, ...RANGE, dimension: 'country', filters: tooMany })}`)).body).toMatchObject({ error: 'invalid_filter' })
    expect((await get('a', `timeseries?${q({ site: SITE, ...RANGE, filters: 'country==DE', source: 'rollup' })}`)).body).toMatchObject({ error: 'invalid_request', param: 'source' })
    expect((await get('a', `consent?${q({ site: SITE, ...RANGE, filters: 'country==DE' })}`)).body).toMatchObject({ error: 'invalid_filter' })
    expect((await get('a', `aggregate?${q({ site: SITE, ...RANGE, goal: 'NoSuchGoal' })}`)).status).toBe(400)
  })

  it('escaped | and ; are literal characters of a value, not separators', async () => {
    // No path holds a | or a ;: an escaped one must match nothing, where unescaped it would be an alternative or a clause.
    for (const filters of ['url_path==/pricing\\|/docs', 'url_path==/pricing\\;country==DE']) {
      const got = (await ask('a', `aggregate?${q({ site: SITE, ...RANGE, filters })}`)) as { hidden: boolean }
      expect(ref.parseFilters(filters)).toHaveLength(1)
      expect(got.hidden, filters).toBe(true)
      expect(aggregateReference('a', filters).metrics.visitors?.value).toBeNull()
    }
  })

  it('timeseries stops at the last bucket that has begun: no future hour comes back as zero', async () => {
    const today = new Date().toISOString().slice(0, 10)
    const tomorrow2 = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10)
    const got = (await ask('a', `timeseries?${q({ site: SITE, from: today, to: tomorrow2, interval: 'hour', filters: 'country==GB|US' })}`)) as {
      until: string
      buckets: { t: string }[]
    }
    const hour = `${new Date().toISOString().slice(0, 13)}:00:00`
    expect(got.until <= hour && got.until >= `${new Date(Date.now() - 3_600_000).toISOString().slice(0, 13)}:00:00`).toBe(true)
    for (const b of got.buckets) expect(b.t <= got.until).toBe(true)
  })
})

describe('goals', () => {
  it('lists each org’s configured goals', async () => {
    for (const org of ORGS) {
      const got = await ask(org, `goals?site=${SITE}`)
      expect(got.goals).toEqual([
        { name: 'Signup', kind: 'event', match: 'signup' },
        { name: 'Pricing', kind: 'page', match: '/pricing*' },
      ])
    }
  })
})

describe('realtime', () => {
  it('last 30 minutes by event time: the k minute shown, the k−1 minute null, bots and org B never counted', async () => {
    for (const org of ORGS) {
      const got = (await ask(org, `realtime?site=${SITE}`)) as { now: string; k: number; visitors_5m: number | null; hidden: boolean; minutes: unknown[] }
      const mine = REALTIME.filter((v) => v.plan.org === org).flatMap(analystEvents)
      const want = ref.realtime(mine, Date.parse(got.now), K)
      expect({ visitors_5m: got.visitors_5m, hidden: got.hidden, minutes: got.minutes }, `${org} realtime (seed ${SEED})`).toEqual(want)
      // Both orgs' traffic together would read otherwise.
      expect(want).not.toEqual(ref.realtime(REALTIME.flatMap(analystEvents), Date.parse(got.now), K))
    }
    const a = (await ask('a', `realtime?site=${SITE}`)) as { minutes: { visitors: number | null }[] }
    expect(a.minutes.map((m) => m.visitors).filter((v) => v !== 0)).toEqual(expect.arrayContaining([K, null]))
  })

  it('integration view: what was received in the last 30 minutes, bots exactly, human names under k withheld', async () => {
    for (const org of ORGS) {
      const asked = Date.now()
      const got = (await ask(org, `realtime/integration?site=${SITE}`)) as Record<string, unknown>
      // Events are read by receipt, within a lookback of their own time of two days (older replays are not read).
      const dayFrom = new Date(asked - 30 * 60_000 - 2 * 86_400_000).toISOString().slice(0, 10)
      const received = [...VISITS, ...REALTIME].filter((v) => v.plan.org === org).flatMap(analystEvents).filter((e) => new Date(e.ts).toISOString().slice(0, 10) >= dayFrom)
      const want = ref.integration(received, K)
      expect({ humans: got.humans, bots: got.bots }, `${org} integration (seed ${SEED})`).toEqual(want)
      expect(got.window_minutes).toBe(30)
      expect(typeof got.last_event_at).toBe('string')
    }
  })
})

describe('format=csv: the same k-anonymous answers as JSON, hidden values as empty cells', () => {
  it('aggregate, breakdown (with "other"), timeseries: cells equal the reference', async () => {
    const agg = await csv('a', `aggregate?${q({ site: SITE, ...RANGE, filters: 'country!=US' })}`)
    const wantAgg = aggregateReference('a', 'country!=US')
    expectClose(
      agg.map((r) => [r.metric, r.value === '' ? null : Number(r.value), r.hidden]),
      Object.entries(wantAgg.metrics).map(([metric, m]) => [metric, m.value, String(wantAgg.hidden)]),
      'aggregate csv',
    )
    const hiddenAgg = await csv('a', `aggregate?${q({ site: SITE, ...RANGE, filters: 'country==JP' })}`)
    for (const r of hiddenAgg) expect(r, 'a hidden aggregate has empty cells').toMatchObject({ value: '', hidden: 'true' })
    for (const [dimension, limit, filters] of [
      ['country', 2, ''],
      ['channel', 10, 'url_path!~blog'],
      ['utm_campaign', 10, ''],
    ] as const) {
      const rows = await csv('a', `breakdown?${q({ site: SITE, ...RANGE, dimension, limit, filters })}`)
      const want = ref.analystBreakdown(ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a')), { dimension, limit, goals: GOAL_LIST }, K)
      const wantRows = [...want.rows, ...(want.other ? [{ value: '(other)', ...want.other }] : [])]
      expect(
        rows.map((r) => [r.value, r.visitors, r.events]),
        `${dimension} csv`,
      ).toEqual(wantRows.map((r) => [r.value, String(r.visitors), String(r.events)]))
    }
    // Paid Search|Organic Social is hidden whole (minus Paid Search it would show t.co's k−1); Paid Search|Email is shown.
    const cells: string[] = []
    for (const filters of ['channel==Paid Search|Organic Social', 'channel==Paid Search|Email']) {
      const ts = await csv('a', `timeseries?${q({ site: SITE, ...RANGE, interval: 'hour', filters })}`)
      const wantTs = ref.filteredTimeseries(ref.applyFilters(scope('a'), filters, GOAL_LIST, K, whole('a')), { ...RANGE, interval: 'hour' }, K)
      expect(ts.map((r) => [r.t, r.hidden, r.visitors, r.events]), `timeseries csv ${filters}`).toEqual(wantTs.map((b) => [b.t, String(b.hidden), cellOf(b.visitors), cellOf(b.events)]))
      cells.push(...ts.map((r) => r.hidden ?? ''))
    }
    expect(new Set(cells), 'both a hidden and a shown bucket').toEqual(new Set(['true', 'false']))
  })
})

const cellOf = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v))

/** A CSV answer as objects by header (RFC 4180: quoted fields, doubled quotes, CRLF records). */
async function csv(org: Org, path: string): Promise<Record<string, string>[]> {
  const res = await fetch(`${pipeline.backoffice}/v1/stats/${path}&format=csv`, { headers: { authorization: `Bearer ${KEYS[org]}` } })
  const text = await res.text()
  expect(res.status, `${path}: ${text}`).toBe(200)
  expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
  expect(res.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${SITE}-[a-z/-]+-[0-9T:-]+-[0-9T:-]+\\.csv"$`))
  const records: string[][] = []
  let field = ''
  let record: string[] = []
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      record.push(field)
      field = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field)
      records.push(record)
      record = []
      field = ''
      i++
    } else field += c
  }
  if (field !== '' || record.length > 0) records.push([...record, field])
  const [header, ...rows] = records
  return rows.map((r) => Object.fromEntries((header ?? []).map((h, i) => [h, r[i] ?? ''])))
}
