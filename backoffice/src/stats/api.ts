import { randomUUID } from 'node:crypto'
import type { Logger, TenantDirectory } from '@atspark/runtime'
import {
  AdoptionQuery,
  AdoptionResponse,
  type ApiKeyRole,
  BreakdownQuery,
  BreakdownResponse,
  CohortsQuery,
  CohortsResponse,
  ConsentQuery,
  ConsentResponse,
  FunnelQuery,
  FunnelResponse,
  funnelStepLabel,
  GoalsQuery,
  GoalsResponse,
  type ParsedFilters,
  type SiteConfig,
  SitesResponse,
  StatsDimension,
  StatsErrorCode,
  type StatsInterval,
  TimeseriesQuery,
  TimeseriesResponse,
} from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { type Context, Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import { checkKey } from '../key-check.js'
import { registerAggregate } from './aggregate.js'
import { bounceQuery, bounceRates } from './bounce.js'
import { rawBreakdown, typeClause } from './breakdown.js'
import { cohortQuery, cohortTriangle, periodStarts } from './cohorts.js'
import { type CompiledFilters, compileFilters } from './filters.js'
import { resolveGoal, siteGoals } from './goals.js'
import { funnelQuery, kAnonymousFunnel } from './funnel.js'
import { grantRate, hideLeakingBuckets, hideSmallAdoption, hideSmallBuckets, kAnonymousBreakdown, keptValues, suppressColumn } from './kanon.js'
import {
  adoptionQuery,
  type BuiltQuery,
  breakdownRestQuery,
  breakdownTopQuery,
  chooseSource,
  consentQuery,
  DEFAULT_LIMITS,
  MAX_HOURLY_INTERVAL_DAYS,
  type QueryLimits,
  resolveRange,
  type Scope,
  StatsRequestError,
  timeseriesQuery,
} from './queries.js'
import { csvFormat } from './csv.js'
import { internalPrincipal, registerExport } from './export.js'
import { registerIntegration } from './integration.js'
import { registerRealtime } from './realtime.js'
import { differencingLeaks, parseQuery, type StatsAuthenticate, type StatsEnv, StatsNotFound, type StatsPrincipal, type StatsRouteContext } from './context.js'
import { answerQueryFailure, StatsQueryError } from './query-failure.js'
import { assertRawCovers, horizonBucket, lastBegunBucket, rawHorizon, wallTimeToUtc } from './raw-retention.js'
import { EngineTimeZones, TIME_ZONES_QUERY } from './time-zones.js'

export interface StatsApiDeps {
  warehouse: ClickHouseClient
  tenants: () => TenantDirectory
  logger: Logger
  /** k-anonymity threshold in distinct visitors (STATS_K_ANONYMITY). */
  k: number
  limits?: QueryLimits
  now?: () => number
}

/** Analysts read aggregates; admins may too. Privacy keys may not. */
export const STATS_ROLES: readonly ApiKeyRole[] = ['analyst', 'admin']

export type { StatsEnv, StatsPrincipal } from './context.js'

export interface StatsAppOptions {
  /** Who asks; default: a bearer key of role analyst or admin (bearerKeyAuthenticate). */
  authenticate?: StatsAuthenticate
}

/** Today's check: a bearer key of the tenants file with a stats role; anything else is 401/403. */
export function bearerKeyAuthenticate(tenants: () => TenantDirectory): StatsAuthenticate {
  return async (c) => {
    const key = checkKey(c, { tenants, roles: STATS_ROLES, purpose: 'use the stats API' })
    if (key instanceof Response) return key
    return { orgId: key.orgId, keyId: key.keyId, role: key.role }
  }
}

/** The stats API, mounted at /v1/stats: bearer key of role analyst/admin (or options.authenticate); the org always comes from the principal. */
export function createStatsApp(deps: StatsApiDeps, options: StatsAppOptions = {}): Hono<StatsEnv> {
  const now = deps.now ?? Date.now
  const limits = deps.limits ?? DEFAULT_LIMITS
  const k = deps.k
  const app = new Hono<StatsEnv>()
  const authenticate = options.authenticate ?? bearerKeyAuthenticate(deps.tenants)

  app.use(
    '*',
    createMiddleware<StatsEnv>(async (c, next) => {
      // The export's own panel requests carry the export's principal (export.ts); any other request authenticates.
      const principal = internalPrincipal(c.req.raw) ?? (await authenticate(c))
      if (principal instanceof Response) return principal
      c.set('principal', principal)
      await next()
    }),
  )

  /** The sites a principal sees: its org's, or the one site a shared link is locked to. */
  const visibleSites = (principal: StatsPrincipal) => {
    const sites = deps.tenants().org(principal.orgId)?.sites ?? []
    return principal.site === undefined ? sites : sites.filter((s) => s.id === principal.site)
  }

  /** The principal's org and one of its sites: an id that is not this org's (or not the link's site) is simply not found. */
  const siteOf = (c: Context<StatsEnv>, requested: string | undefined) => {
    const principal = c.get('principal')
    const org = principal.orgId
    const sites = visibleSites(principal)
    const found = requested === undefined ? (sites.length === 1 ? sites[0] : undefined) : sites.find((s) => s.id === requested)
    if (!found) {
      if (requested === undefined) throw new StatsRequestError(`site is required: this org has ${sites.length} sites`, StatsErrorCode.invalidRequest, 'site')
      throw new StatsNotFound(`no site ${requested} in this org`)
    }
    // Raw events reach back only as far as the site's retention (13 months at most).
    return { org, site: found.id, horizon: rawHorizon(now(), found.retention_months), config: found }
  }

  /** Every warehouse read: under a query id of its own, and a failure keeps only that id and the engine's code (query-failure.ts). */
  const rows = async <T>(q: BuiltQuery): Promise<T[]> => {
    const queryId = randomUUID()
    try {
      const rs = await deps.warehouse.query({ query: q.query, query_params: q.query_params, format: 'JSONEachRow', query_id: queryId })
      return await rs.json<T>()
    } catch (err) {
      throw StatsQueryError.from(queryId, err)
    }
  }

  const zones = new EngineTimeZones(async () => (await rows<{ time_zone: string }>({ query: TIME_ZONES_QUERY, query_params: {} })).map((r) => r.time_zone))
  /** The zone as the engine spells it: the schema checked the runtime knows it, this that the engine does too. */
  const engineZone = async (tz: string): Promise<string> => {
    const spelled = await zones.spelling(tz)
    if (spelled === undefined) throw new StatsRequestError('a time zone the warehouse does not know', StatsErrorCode.invalidTimezone, 'tz')
    return spelled
  }

  /** What the route modules (aggregate, goals, realtime, export, …) share. */
  const ctx: StatsRouteContext = { siteOf, rows, engineZone, k, now, limits, logger: deps.logger, tenants: deps.tenants }
  // format=csv on every route below: registered before them, so it wraps each answer.
  app.use('*', csvFormat())
  registerAggregate(app, ctx)
  registerRealtime(app, ctx)
  registerIntegration(app, ctx)
  registerExport(app, ctx)

  /** Per shown bucket, from raw events (whatever the series' source); a range wholly past the raw retention has none to read. */
  const bounceRatesOf = async (scope: Scope, interval: StatsInterval, buckets: readonly { t: string; hidden: boolean }[], horizon: number, filters?: CompiledFilters) => {
    const { range } = scope
    if (wallTimeToUtc(range.to, range.tz) <= horizon) return buckets.map(() => null)
    const bounces = (await rows<Record<string, string | number>>(bounceQuery(scope, interval, limits, filters))).map((r) => ({
      t: String(r.t),
      bounces: Number(r.n_bounces),
      sessions: Number(r.n_sessions),
      visitors: Number(r.n_visitors),
    }))
    const beyond = wallTimeToUtc(range.from, range.tz) < horizon
    return bounceRates(buckets, bounces, k, beyond ? horizonBucket(horizon, interval, range.tz) : null)
  }

  /** Filters of a request compiled against its site's goals; `source=rollup` cannot answer them. */
  const filtersOf = (q: { filters?: ParsedFilters | undefined; source?: string }, config: SiteConfig): CompiledFilters | undefined => {
    if (!q.filters) return undefined
    if (q.source === 'rollup') throw new StatsRequestError('filters read raw events: use source=auto or raw', StatsErrorCode.invalidRequest, 'source')
    return compileFilters(q.filters.clauses, config)
  }

  /** Whether a `!=`/`!~` clause alone removed 1 to k−1 visitors of the whole range. */
  const complementLeaksOf = (scope: Scope, filters: CompiledFilters | undefined): Promise<boolean> => differencingLeaks({ rows, k, limits }, scope, filters)

  app.get('/goals', (c) => {
    const q = parseQuery(GoalsQuery, c.req.query())
    const { org, site, config } = siteOf(c, q.site)
    return c.json(GoalsResponse.parse({ org_id: org, site, goals: siteGoals(config) }))
  })

  /** The key's org's sites, for pickers: never a write key. */
  app.get('/sites', (c) => {
    const org = c.get('principal').orgId
    const sites = visibleSites(c.get('principal')).map((s) => ({ id: s.id, allowed_origins: s.allowed_origins, consent_mode: s.consent_mode }))
    return c.json(SitesResponse.parse({ org_id: org, sites }))
  })

  app.get('/timeseries', async (c) => {
    const q = parseQuery(TimeseriesQuery, c.req.query())
    const { org, site, horizon, config } = siteOf(c, q.site)
    const range = resolveRange(q, await engineZone(q.tz), now())
    if (q.interval === 'hour' && range.days > MAX_HOURLY_INTERVAL_DAYS)
      throw new StatsRequestError(`interval=hour covers at most ${MAX_HOURLY_INTERVAL_DAYS} days`, StatsErrorCode.invalidRange, 'interval')
    const scope: Scope = { org, site, range }
    const filters = filtersOf(q, config)
    const table = filters ? 'events' : chooseSource(range, q.interval, q.source)
    if (table === 'events') assertRawCovers(range, horizon, filters ? 'filters' : 'source=raw')
    const [raw, leaks] = await Promise.all([rows<Record<string, string | number>>(timeseriesQuery(scope, table, q.interval, limits, filters)), complementLeaksOf(scope, filters)])
    const counts = raw.map((r) => ({
      t: String(r.t),
      visitors: Number(r.n_visitors),
      pageviews: Number(r.n_pageviews),
      events: Number(r.n_events),
      sessions: Number(r.n_sessions),
    }))
    // Buckets that start after now are not answered (not zeros): `until` says where the series stops.
    const until = lastBegunBucket(range, q.interval, now())
    const hidden = (b: { t: string }) => ({ t: b.t, hidden: true, visitors: null, pageviews: null, events: null, sessions: null })
    const buckets = hideLeakingBuckets(hideSmallBuckets(counts, k), raw, k, hidden)
      .map((b) => (leaks ? hidden(b) : b))
      .filter((b) => until !== null && b.t <= until)
    // Bounce rates need each session's events, so only raw events answer them: read only when asked.
    const rates = q.bounce ? await bounceRatesOf(scope, q.interval, buckets, horizon, filters) : undefined
    const body = {
      org_id: org,
      site,
      from: range.from,
      to: range.to,
      k,
      filters: q.filters?.text ?? null,
      interval: q.interval,
      tz: range.tz,
      source: table,
      until,
      buckets: rates ? buckets.map((b, i) => ({ ...b, bounce_rate: rates[i] ?? null })) : buckets,
    }
    return c.json(TimeseriesResponse.parse(body))
  })

  app.get('/adoption', async (c) => {
    const q = parseQuery(AdoptionQuery, c.req.query())
    const { org, site, horizon, config } = siteOf(c, q.site)
    const range = resolveRange(q, await engineZone(q.tz), now())
    if (q.interval === 'hour' && range.days > MAX_HOURLY_INTERVAL_DAYS)
      throw new StatsRequestError(`interval=hour covers at most ${MAX_HOURLY_INTERVAL_DAYS} days`, StatsErrorCode.invalidRange, 'interval')
    const filters = filtersOf(q, config)
    const table = filters ? 'events' : chooseSource(range, q.interval, q.source)
    if (table === 'events') assertRawCovers(range, horizon, filters ? 'filters' : 'source=raw')
    const [raw, leaks] = await Promise.all([
      rows<Record<string, string | number>>(adoptionQuery({ org, site, range }, table, q.interval, q.feature, limits, filters)),
      complementLeaksOf({ org, site, range }, filters),
    ])
    const counts = raw.map((r) => ({ t: String(r.t), accounts: Number(r.n_accounts), visitors: Number(r.n_visitors), events: Number(r.n_events) }))
    const hidden = (b: { t: string }) => ({ t: b.t, hidden: true, accounts: null, visitors: null, events: null })
    const buckets = hideLeakingBuckets(hideSmallAdoption(counts, k), raw, k, hidden).map((b) => (leaks ? hidden(b) : b))
    const body = { org_id: org, site, from: range.from, to: range.to, k, filters: q.filters?.text ?? null, feature: q.feature, interval: q.interval, tz: range.tz, source: table, buckets }
    return c.json(AdoptionResponse.parse(body))
  })

  app.get('/adoption/cohorts', async (c) => {
    const q = parseQuery(CohortsQuery, c.req.query())
    const { org, site, horizon, config } = siteOf(c, q.site)
    const range = resolveRange(q, 'UTC', now())
    assertRawCovers(range, horizon, 'a cohort table')
    const filters = filtersOf(q, config)
    const [raw, leaks] = await Promise.all([
      rows<Record<string, string | number>>(cohortQuery({ org, site, range }, q.feature, q.interval, limits, filters)),
      complementLeaksOf({ org, site, range }, filters),
    ])
    const cells = raw.map((r) => ({ cohort: String(r.cohort), period: String(r.period), accounts: Number(r.accounts) }))
    const periods = periodStarts(range, q.interval)
    const cohorts = cohortTriangle(cells, periods, k).map((ch) =>
      leaks ? { ...ch, hidden: true, accounts: null, retained: ch.retained.map((cell) => ({ ...cell, accounts: null })) } : ch,
    )
    const body = { org_id: org, site, from: range.from, to: range.to, k, filters: q.filters?.text ?? null, feature: q.feature, interval: q.interval, source: 'events', periods, cohorts }
    return c.json(CohortsResponse.parse(body))
  })

  app.get('/funnel', async (c) => {
    const q = parseQuery(FunnelQuery, c.req.query())
    const { org, site, horizon, config } = siteOf(c, q.site)
    const range = resolveRange(q, 'UTC', now())
    assertRawCovers(range, horizon, 'a funnel')
    const filters = filtersOf(q, config)
    // A funnel a != / !~ would single people out of is not shown at all.
    const [raw, leaks] = await Promise.all([
      rows<Record<string, string | number>>(funnelQuery({ org, site, range }, q.steps, q.window, limits, filters)),
      complementLeaksOf({ org, site, range }, filters),
    ])
    const counts = kAnonymousFunnel(
      leaks ? [] : raw.map((r) => ({ level: Number(r.level), visitors: Number(r.visitors) })),
      q.steps.length,
      k,
    )
    const steps = q.steps.map((s, i) => ({ step: funnelStepLabel(s), type: s.type, value: s.value, visitors: counts[i]?.visitors ?? null, conversion: counts[i]?.conversion ?? null }))
    const body = { org_id: org, site, from: range.from, to: range.to, k, filters: q.filters?.text ?? null, window: q.window, source: 'events', steps }
    return c.json(FunnelResponse.parse(body))
  })

  app.get('/breakdown', async (c) => {
    const q = parseQuery(BreakdownQuery, c.req.query())
    const { org, site, horizon, config } = siteOf(c, q.site)
    const range = resolveRange(q, 'UTC', now())
    const scope: Scope = { org, site, range }
    const rollupDimension = StatsDimension.safeParse(q.dimension)
    // Filters, goals and the new dimensions need each event (or visit): raw events answer them.
    if (!rollupDimension.success || q.filters || q.goal !== undefined) {
      if (q.source === 'rollup') throw new StatsRequestError('filters, goal and this dimension read raw events: use source=auto or raw', StatsErrorCode.invalidRequest, 'source')
      if (q.dimension === 'goal' && q.goal !== undefined) throw new StatsRequestError('dimension=goal already reports each goal: drop goal', StatsErrorCode.invalidRequest, 'goal')
      assertRawCovers(range, horizon, 'this breakdown')
      const filters = compileFilters([...(q.filters?.clauses ?? []), ...typeClause(q.type)], config)
      const goal = q.goal === undefined ? undefined : resolveGoal(q.goal, config)
      const [answer, leaks] = await Promise.all([
        rawBreakdown(rows, scope, { dimension: q.dimension, limit: q.limit, filters, goal, siteGoals: siteGoals(config) }, k, limits),
        complementLeaksOf(scope, q.filters ? filters : undefined),
      ])
      const result = leaks ? { rows: [], other: null } : answer
      const body = { org_id: org, site, from: range.from, to: range.to, k, filters: q.filters?.text ?? null, dimension: q.dimension, type: q.type ?? null, goal: q.goal ?? null, source: 'events', ...result }
      return c.json(BreakdownResponse.parse(body))
    }
    const table = chooseSource(range, undefined, q.source)
    if (table === 'events') assertRawCovers(range, horizon, 'source=raw')
    const spec = { dimension: rollupDimension.data, type: q.type, limit: q.limit, k }
    const top = (await rows<Record<string, string | number>>(breakdownTopQuery(scope, table, spec, limits))).map((r) => ({
      value: String(r.value),
      visitors: Number(r.visitors),
      events: Number(r.events),
    }))
    const kept = keptValues(top, k, q.limit)
    const [rest] = await rows<Record<string, string | number>>(breakdownRestQuery(scope, table, spec, kept, limits))
    const result = kAnonymousBreakdown(
      top.filter((r) => kept.includes(r.value)),
      { visitors: Number(rest?.visitors ?? 0), events: Number(rest?.events ?? 0) },
      k,
      q.limit,
    )
    const body = { org_id: org, site, from: range.from, to: range.to, k, filters: null, dimension: q.dimension, type: q.type ?? null, goal: null, source: table, ...result }
    return c.json(BreakdownResponse.parse(body))
  })

  app.get('/consent', async (c) => {
    const q = parseQuery(ConsentQuery, c.req.query())
    const { org, site } = siteOf(c, q.site)
    if (q.filters) throw new StatsRequestError('consent receipts have no dimensions to filter by', StatsErrorCode.invalidFilter, 'filters')
    const range = resolveRange(q, 'UTC', now())
    const raw = await rows<Record<string, string | number>>(consentQuery({ org, site, range }, limits))
    const grants = suppressColumn(
      raw.map((r) => Number(r.grants)),
      k,
    )
    const refusals = suppressColumn(
      raw.map((r) => Number(r.refusals)),
      k,
    )
    const body = {
      org_id: org,
      site,
      from: range.from,
      to: range.to,
      k,
      source: 'consent_log',
      sources: raw.map((r, i) => ({ source: String(r.source), grants: grants.cells[i] ?? null, refusals: refusals.cells[i] ?? null })),
      grants: grants.total,
      refusals: refusals.total,
      grant_rate: grantRate(grants.total, refusals.total),
    }
    return c.json(ConsentResponse.parse(body))
  })

  app.onError((err, c) => {
    if (err instanceof StatsRequestError) return c.json({ error: err.code, message: err.message, ...(err.param ? { param: err.param } : {}) }, 400)
    if (err instanceof StatsNotFound) return c.json({ error: 'not_found', message: err.message }, 404)
    if (err instanceof StatsQueryError) {
      const answer = answerQueryFailure(err)
      // The id and the engine's code only: never the error's message, which quotes the SQL and its parameters.
      const line = { query_id: err.queryId, code: err.code, type: err.type, status: answer.status, path: c.req.path }
      if (answer.status === 500) deps.logger.error(line, 'stats query failed')
      else deps.logger.warn(line, 'stats query failed')
      return c.json({ error: answer.error, message: answer.message, query_id: err.queryId }, answer.status)
    }
    deps.logger.error({ err, path: c.req.path }, 'stats API failed')
    return c.json({ error: 'internal', message: 'internal error' }, 500)
  })
  return app
}
