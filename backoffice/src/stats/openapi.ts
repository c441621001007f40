import {
  AggregateQuery,
  AggregateResponse,
  AdoptionQuery,
  AdoptionResponse,
  BreakdownQuery,
  BreakdownResponse,
  CohortsQuery,
  CohortsResponse,
  ConsentQuery,
  ConsentResponse,
  FunnelQuery,
  FunnelResponse,
  GoalsQuery,
  GoalsResponse,
  IntegrationQuery,
  IntegrationResponse,
  RealtimeQuery,
  RealtimeResponse,
  ShareCreateBody,
  ShareCreatedResponse,
  ShareListResponse,
  ShareRevokedResponse,
  SitesResponse,
  ShareToken,
  StatsError,
  StatsFormat,
  TimeseriesQuery,
  TimeseriesResponse,
} from '@atspark/schemas'
import { z } from 'zod'
import { ExportQuery } from './export.js'

type JsonSchema = Record<string, unknown>

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema
  return rest
}

/** Query parameters from a zod object: one OpenAPI parameter per property. */
function parameters(query: z.ZodType): JsonSchema[] {
  const json = schemaOf(query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] }
  return Object.entries(json.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema
    return { name, in: 'query', required: json.required?.includes(name) ?? false, ...(description ? { description } : {}), schema: rest }
  })
}

/** `format=csv` on every stats endpoint (csv.ts wraps each answer). */
const FORMAT_PARAMETER = {
  name: 'format',
  in: 'query',
  required: false,
  description: 'json (default) or csv: text/csv with a header row, hidden values as empty cells, a breakdown’s other row as (other), sent as an attachment',
  schema: schemaOf(StatsFormat, 'input'),
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/StatsError' } } } })

function operation(summary: string, query: z.ZodType | undefined, response: string, description?: string): JsonSchema {
  const perSite = query !== undefined
  return {
    summary,
    ...(description ? { description } : {}),
    security: [{ bearer: [] }],
    parameters: [...(perSite ? parameters(query) : []), FORMAT_PARAMETER],
    responses: {
      '200': {
        description: perSite ? 'k-anonymous aggregates' : 'the key’s org',
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${response}` } }, 'text/csv': { schema: { type: 'string' } } },
      },
      ...(perSite
        ? { '400': errorResponse('invalid query: error is the reason (invalid_date, invalid_timezone, invalid_range, invalid_filter, invalid_request), param the parameter') }
        : {}),
      '401': errorResponse('missing or unknown API key'),
      '403': errorResponse('the key’s role may not read stats'),
      ...(perSite
        ? {
            '404': errorResponse('no such site in the key’s org'),
            '500': errorResponse('internal error; query_id names the failed warehouse query'),
            '503': errorResponse('timeout (the query hit its time limit) or warehouse_unavailable; query_id names the query'),
          }
        : {}),
    },
  }
}

let cached: JsonSchema | undefined

/** The back office's OpenAPI 3.1 document, generated from the zod schemas the API validates with. */
export function openApiDocument(): JsonSchema {
  cached ??= {
    openapi: '3.1.0',
    info: {
      title: 'atSpark back office: stats API',
      version: '1',
      description: [
        'Aggregates from the rollups or raw events, scoped to the org of the bearer key (or the one site of a shared link), with k-anonymity (docs/analysts.md).',
        'Every endpoint takes `filters` (Plausible v1 syntax, e.g. `country==DE|FR;url_path=~pricing;utm_source!=newsletter`; `/consent` refuses them) and `format=csv`.',
        'With filters (or a dimension the rollups lack) answers come from raw events (source `events`) within the raw retention; `source=rollup` with filters is a 400.',
        'Event-level clauses keep the matching events; visit-level ones (entry_page, exit_page, channel, utm_*) keep the events of the visits whose value matches (a visit’s entry/exit page is its first/last pageview’s path, its channel and utm_* its first event’s).',
        'k-anonymity holds under every filter: a number from fewer than k visitors is hidden (null, never 0), and no two filtered answers may differ by 1 to k−1 visitors. Over the request’s range, each of these must be 0 or at least k visitors, else the answer is hidden whole: the events every other clause keeps and one clause drops (its complement); per `==`/`!=` list of several values, each value’s events under the other clauses; per `=~`/`!~`, the values it matches that have 1 to k−1 visitors each, together. A bucket or row from which a `!=`/`!~` clause alone removed 1 to k−1 visitors is hidden too, and `other` is not shown when a value in it lost 1 to k−1 visitors so.',
      ].join(' '),
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a back-office key (sk_…) of role analyst or admin' } },
      schemas: {
        TimeseriesResponse: schemaOf(TimeseriesResponse, 'output'),
        BreakdownResponse: schemaOf(BreakdownResponse, 'output'),
        ConsentResponse: schemaOf(ConsentResponse, 'output'),
        AdoptionResponse: schemaOf(AdoptionResponse, 'output'),
        CohortsResponse: schemaOf(CohortsResponse, 'output'),
        FunnelResponse: schemaOf(FunnelResponse, 'output'),
        AggregateResponse: schemaOf(AggregateResponse, 'output'),
        GoalsResponse: schemaOf(GoalsResponse, 'output'),
        RealtimeResponse: schemaOf(RealtimeResponse, 'output'),
        IntegrationResponse: schemaOf(IntegrationResponse, 'output'),
        SitesResponse: schemaOf(SitesResponse, 'output'),
        StatsError: schemaOf(StatsError, 'output'),
        ShareCreateBody: schemaOf(ShareCreateBody, 'input'),
        ShareCreatedResponse: schemaOf(ShareCreatedResponse, 'output'),
        ShareListResponse: schemaOf(ShareListResponse, 'output'),
        ShareRevokedResponse: schemaOf(ShareRevokedResponse, 'output'),
      },
    },
    paths: {
      '/v1/stats/sites': { get: operation('The key’s org and its sites', undefined, 'SitesResponse') },
      '/v1/stats/timeseries': {
        get: operation(
          'Visitors, pageviews, events, sessions and, when asked, bounce rate per bucket',
          TimeseriesQuery,
          'TimeseriesResponse',
          'Counts come from the rollups (or raw events with source=raw). bounce_rate is there only with bounce=true: it is computed from raw events whatever the source (each session’s events), so it costs a raw read, and is null beyond the raw retention.',
        ),
      },
      '/v1/stats/aggregate': {
        get: operation(
          'Headline numbers of the range: visitors, visits, pageviews, events, views per visit, bounce rate, visit duration; conversions with a goal; change against the previous period',
          AggregateQuery,
          'AggregateResponse',
          'From raw events, one row per visit. visitors are distinct over the whole range; visit metrics cover the visits with a kept event, each measured whole (its events a day either side of the range included). bounce_rate: visits whose only event is one pageview / visits with a pageview. visit_duration_*: seconds from a visit’s first to its last event, median (the mean of the two middle visits when even) and mean. With compare=previous_period, every metric also has previous and change. hidden (every value null) under k visitors or when a != / !~ clause alone removed 1 to k−1 visitors.',
        ),
      },
      '/v1/stats/breakdown': {
        get: operation(
          'Top values of one dimension, and "other"',
          BreakdownQuery,
          'BreakdownResponse',
          'Rollup dimensions without filters or goal read the rollups; every other request reads raw events: type, props.<key> (events without the prop under the empty value), visit-level dimensions (rows carry visits), and goal (one row per configured goal: visitors who completed it, completions). With goal, each row adds conversions (visitors of the row who completed it; null when 1 to k−1) and conversion_rate. Named rows have at least k visitors; other is merged in the warehouse and shown only from k visitors.',
        ),
      },
      '/v1/stats/goals': { get: operation('The site’s configured goals (an event name, or a page pattern: * any characters but /, ** any characters)', GoalsQuery, 'GoalsResponse') },
      '/v1/stats/realtime': {
        get: operation(
          'Visitors in the last 5 minutes and events and visitors per minute over the last 30',
          RealtimeQuery,
          'RealtimeResponse',
          '30 one-minute buckets ending at the current minute, oldest first, each null when from fewer than k visitors (0 shown as 0).',
        ),
      },
      '/v1/stats/realtime/integration': {
        get: operation(
          'For a site owner checking an install: the last event’s time and counts per event type and name over the last 30 minutes, bots counted apart',
          IntegrationQuery,
          'IntegrationResponse',
          'Bots are counted exactly (nobody is behind a headless browser); human per-name counts are null where fewer than k visitors did it.',
        ),
      },
      '/v1/stats/consent': { get: operation('Consent grants and refusals per source', ConsentQuery, 'ConsentResponse') },
      '/v1/stats/adoption': { get: operation('Distinct accounts using one feature per period', AdoptionQuery, 'AdoptionResponse') },
      '/v1/stats/adoption/cohorts': {
        get: operation(
          'First-use cohorts of a feature and their later use',
          CohortsQuery,
          'CohortsResponse',
          'From raw events, so from must lie within the raw retention (13 months, or the site’s retention_months).',
        ),
      },
      '/v1/stats/export': {
        get: {
          ...operation('The whole dashboard as a zip of CSVs, one per panel, each equal to that panel’s format=csv answer', ExportQuery, 'StatsError'),
          // Always a zip: no format parameter.
          parameters: parameters(ExportQuery),
          responses: {
            '200': { description: 'application/zip: aggregate.csv, timeseries.csv, pages.csv, entry_pages.csv, … goals.csv', content: { 'application/zip': { schema: { type: 'string', format: 'binary' } } } },
            '400': errorResponse('invalid query'),
            '401': errorResponse('missing or unknown API key'),
            '404': errorResponse('no such site in the key’s org'),
          },
        },
      },
      '/v1/stats/funnel': {
        get: operation(
          'Visitors reaching each step of a funnel, in order within a window',
          FunnelQuery,
          'FunnelResponse',
          'From raw events (windowFunnel per visitor), so from must lie within the raw retention (13 months, or the site’s retention_months).',
        ),
      },
      ...SHARE_PATHS,
    },
  }
  return cached
}

const json = (schema: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } })
const adminOnly = {
  '401': errorResponse('missing or unknown API key'),
  '403': errorResponse('the key is not an admin key'),
  '429': errorResponse('too many refused attempts from this address (rate_limited); Retry-After says when to retry'),
  '503': errorResponse('audit_unavailable: the audit log cannot be written, so nothing was done'),
}
/** The stats endpoints a shared link reaches, as `{endpoint}` (a path below /v1/stats). */
const SHARED_ENDPOINTS = ['sites', 'aggregate', 'timeseries', 'breakdown', 'goals', 'realtime', 'realtime/integration', 'consent', 'adoption', 'adoption/cohorts', 'funnel', 'export']
const SHARE_EXPIRES = { 'X-Share-Expires-At': { description: 'when the link stops opening (ISO 8601 UTC)', schema: { type: 'string', format: 'date-time' } } }

/** Shared links: the admin API that hands them out, and the stats API behind one (docs/analysts.md). */
const SHARE_PATHS: Record<string, JsonSchema> = {
  '/v1/shares': {
    post: {
      summary: 'Share one site’s dashboard read-only: a link whose token is shown once',
      description:
        'Admin keys only. The token (sh_ + 32 random bytes, base64url) is in the answer once; the warehouse keeps its sha256 only. The link opens /share/<token> (the dashboard, no sign-in) and /v1/shared/<token>/stats/*, until expires_at or revocation. Every call is audited.',
      security: [{ bearer: [] }],
      requestBody: { required: true, content: json('ShareCreateBody') },
      responses: {
        '201': { description: 'the new link', content: json('ShareCreatedResponse') },
        '400': errorResponse('invalid_request: the body is not JSON or breaks ShareCreateBody (expires_in_days 1–365, label up to 100 characters)'),
        '404': errorResponse('no such site in the key’s org'),
        '413': errorResponse('body_too_large: bodies are at most 4 KiB'),
        ...adminOnly,
      },
    },
    get: {
      summary: 'The org’s shared links, never their tokens',
      security: [{ bearer: [] }],
      responses: { '200': { description: 'the links, active or not', content: json('ShareListResponse') }, ...adminOnly },
    },
  },
  '/v1/shares/{id}': {
    delete: {
      summary: 'Revoke a link: it answers 404 from the next request on',
      description: 'Revoking twice keeps the first revocation’s time.',
      security: [{ bearer: [] }],
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      responses: {
        '200': { description: 'revoked', content: json('ShareRevokedResponse') },
        '404': errorResponse('no such link in the key’s org'),
        ...adminOnly,
      },
    },
  },
  '/v1/shared/{token}/stats/{endpoint}': {
    get: {
      summary: 'The stats API behind a shared link: its org, its one site, aggregates only',
      description:
        'No key: the token opens the link. Takes the query of /v1/stats/{endpoint} (format=csv included) and answers as it does, under the same k-anonymity; site= may be omitted (the link’s site), another site is 404. Every use is audited (share_view). Every answer of an open link carries X-Share-Expires-At. An unknown, expired or revoked token is 404 not_found (“this shared link does not exist, has expired or was revoked”), and costs the address one of its refused attempts.',
      security: [],
      parameters: [
        { name: 'token', in: 'path', required: true, schema: schemaOf(ShareToken, 'input') },
        { name: 'endpoint', in: 'path', required: true, description: 'a stats endpoint (adoption/cohorts and realtime/integration hold a slash)', schema: { type: 'string', enum: SHARED_ENDPOINTS } },
      ],
      responses: {
        '200': { description: 'the endpoint’s answer (see /v1/stats/{endpoint})', headers: SHARE_EXPIRES, content: { 'application/json': { schema: {} }, 'text/csv': { schema: { type: 'string' } } } },
        '400': { ...errorResponse('invalid query, as for /v1/stats/{endpoint}'), headers: SHARE_EXPIRES },
        '404': errorResponse('the link does not open (unknown, expired or revoked token), or another site than the link’s'),
        '429': errorResponse('too many refused attempts from this address (rate_limited)'),
        '503': errorResponse('audit_unavailable (the use cannot be audited, so it is refused), or the endpoint’s own timeout/warehouse_unavailable'),
      },
    },
  },
}
