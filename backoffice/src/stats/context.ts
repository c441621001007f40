import type { Logger, TenantDirectory } from '@atspark/runtime'
import { type ApiKeyRole, type SiteConfig, StatsErrorCode } from '@atspark/schemas'
import type { Context } from 'hono'
import { z } from 'zod'
import type { CompiledFilters } from './filters.js'
import { singlesOutByComplement } from './kanon.js'
import { type BuiltQuery, complementQuery, type QueryLimits, type Scope, StatsRequestError } from './queries.js'

/** What every stats route module gets from createStatsApp: the request's site, warehouse reads, the k rules. */

/** Who asks: a bearer key, or a shared link (role `shared`, locked to one site). */
export interface StatsPrincipal {
  orgId: string
  keyId: string
  role: ApiKeyRole | 'shared'
  /** When set, the principal sees this site only: another id is not found, `/sites` lists it alone. */
  site?: string
}

export type StatsEnv = { Variables: { principal: StatsPrincipal } }

/** Decides who asks, or answers the request itself (401/403/404). */
export type StatsAuthenticate = (c: Context) => Promise<StatsPrincipal | Response>

/** The org (always the principal's) and one of its sites, with the instant raw events reach back to. */
export interface StatsSiteRef {
  org: string
  site: string
  /** Epoch ms: the earliest instant whose raw events are surely still kept (raw-retention.ts). */
  horizon: number
  config: SiteConfig
}

export interface StatsRouteContext {
  /** The request's site: `requested` of the principal's org (or its only/locked site); throws NotFound / StatsRequestError. */
  siteOf(c: Context<StatsEnv>, requested: string | undefined): StatsSiteRef
  /** One warehouse read under its own query id; a failure is a StatsQueryError (query-failure.ts). */
  rows<T>(q: BuiltQuery): Promise<T[]>
  /** The engine's spelling of a zone the runtime knows; 400 invalid_timezone when the engine does not. */
  engineZone(tz: string): Promise<string>
  /** The k-anonymity threshold in distinct visitors. */
  k: number
  now: () => number
  limits: QueryLimits
  logger: Logger
  tenants: () => TenantDirectory
}

/** Whether two filtered answers could be differenced to single out 1 to k−1 visitors (queries.ts complementQuery): then the answer is hidden whole. */
export async function differencingLeaks(ctx: Pick<StatsRouteContext, 'rows' | 'k' | 'limits'>, scope: Scope, filters: CompiledFilters | undefined): Promise<boolean> {
  const q = filters ? complementQuery(scope, filters, ctx.k, ctx.limits) : undefined
  if (!q) return false
  const [row] = await ctx.rows<Record<string, unknown>>(q)
  return row !== undefined && singlesOutByComplement(row, ctx.k)
}

/** A site, link or row that is not this principal's: 404. */
export class StatsNotFound extends Error {}

/**
 * Query strings are parsed here so a bad one is a 400 naming the parameter, with the code its schema check
 * carries (`params.code`, e.g. invalid_date) or invalid_request; a response failing its schema (a ZodError) stays a 500.
 */
export function parseQuery<T extends z.ZodType>(schema: T, query: Record<string, string>): z.infer<T> {
  const parsed = schema.safeParse(query)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const coded = issue?.code === 'custom' ? (issue.params as { code?: StatsErrorCode } | undefined)?.code : undefined
  const param = issue?.path[0]
  throw new StatsRequestError(z.prettifyError(parsed.error), coded ?? StatsErrorCode.invalidRequest, param === undefined ? undefined : String(param))
}
