import {
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
  SitesResponse,
  StatsError,
  TimeseriesQuery,
  TimeseriesResponse,
} from '@atspark/schemas'
import { z } from 'zod'

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

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/StatsError' } } } })

function operation(summary: string, query: z.ZodType | undefined, response: string, description?: string): JsonSchema {
  const perSite = query !== undefined
  return {
    summary,
    ...(description ? { description } : {}),
    security: [{ bearer: [] }],
    parameters: perSite ? parameters(query) : [],
    responses: {
      '200': { description: perSite ? 'k-anonymous aggregates' : 'the key’s org', content: { 'application/json': { schema: { $ref: `#/components/schemas/${response}` } } } },
      ...(perSite ? { '400': errorResponse('invalid query: error is the reason (invalid_date, invalid_timezone, invalid_range, invalid_request), param the parameter') } : {}),
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
      description: 'Aggregates from the rollups or raw events, scoped to the org of the bearer key, with k-anonymity (docs/analysts.md).',
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
        SitesResponse: schemaOf(SitesResponse, 'output'),
        StatsError: schemaOf(StatsError, 'output'),
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
      '/v1/stats/breakdown': { get: operation('Top values of one dimension, and "other"', BreakdownQuery, 'BreakdownResponse') },
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
      '/v1/stats/funnel': {
        get: operation(
          'Visitors reaching each step of a funnel, in order within a window',
          FunnelQuery,
          'FunnelResponse',
          'From raw events (windowFunnel per visitor), so from must lie within the raw retention (13 months, or the site’s retention_months).',
        ),
      },
    },
  }
  return cached
}
