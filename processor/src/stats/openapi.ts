import { AdoptionQuery, AdoptionResponse, BreakdownQuery, BreakdownResponse, ConsentQuery, ConsentResponse, StatsError, TimeseriesQuery, TimeseriesResponse } from '@atspark/schemas'
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

function operation(summary: string, query: z.ZodType, response: string): JsonSchema {
  return {
    summary,
    security: [{ bearer: [] }],
    parameters: parameters(query),
    responses: {
      '200': { description: 'k-anonymous aggregates', content: { 'application/json': { schema: { $ref: `#/components/schemas/${response}` } } } },
      '400': errorResponse('invalid query'),
      '401': errorResponse('missing or unknown API key'),
      '403': errorResponse('the key’s role may not read stats'),
      '404': errorResponse('no such site in the key’s org'),
      '503': errorResponse('the query hit its time limit'),
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
      description: 'Aggregates from the rollups, scoped to the org of the bearer key, with k-anonymity (docs/analysts.md).',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a back-office key (sk_…) of role analyst or admin' } },
      schemas: {
        TimeseriesResponse: schemaOf(TimeseriesResponse, 'output'),
        BreakdownResponse: schemaOf(BreakdownResponse, 'output'),
        ConsentResponse: schemaOf(ConsentResponse, 'output'),
        AdoptionResponse: schemaOf(AdoptionResponse, 'output'),
        StatsError: schemaOf(StatsError, 'output'),
      },
    },
    paths: {
      '/v1/stats/timeseries': { get: operation('Visitors, pageviews, events and sessions per bucket', TimeseriesQuery, 'TimeseriesResponse') },
      '/v1/stats/breakdown': { get: operation('Top values of one dimension, and "other"', BreakdownQuery, 'BreakdownResponse') },
      '/v1/stats/consent': { get: operation('Consent grants and refusals per source', ConsentQuery, 'ConsentResponse') },
      '/v1/stats/adoption': { get: operation('Distinct accounts using one feature per period', AdoptionQuery, 'AdoptionResponse') },
    },
  }
  return cached
}
