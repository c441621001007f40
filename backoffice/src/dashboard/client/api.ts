import type { AdoptionResponse, CohortsResponse, ConsentResponse, FunnelResponse, SitesResponse, StatsError, TimeseriesResponse } from '@atspark/schemas'
import type { z } from 'zod'
import type { Interval } from './range.js'
import type { AggregateResponse, Breakdown, GoalsResponse, IntegrationResponse, RealtimeResponse } from './types.js'

type ErrorBody = z.infer<typeof StatsError>

/** What a stale key is told: the demo mints new keys at every start, so yesterday's tab holds a dead one. */
export const STALE_KEY_MESSAGE =
  'This key is no longer valid. The demo mints new keys at every npm start — paste the analyst key printed in the terminal (or in data/dev.env).'

/** An answer other than 2xx: the API's own message when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }

  /** The key is unknown or may not read stats: the page must sign out. */
  get signsOut(): boolean {
    return this.status === 401 || this.status === 403
  }
}

/** The site, range and filters every panel asks with. */
export interface Scope {
  site: string
  from: string
  to: string
  filters: string
}

/** Who the page reads as: an API key (bearer header, never in a URL) or a shared link's token (in its path). */
export type Access = { kind: 'key'; key: string } | { kind: 'shared'; token: string }

export interface Download {
  blob: Blob
  filename: string
}

/** The stats API of this back office. */
export class StatsClient {
  readonly base: string

  constructor(readonly access: Access) {
    this.base = access.kind === 'shared' ? `/v1/shared/${encodeURIComponent(access.token)}/stats` : '/v1/stats'
  }

  get shared(): boolean {
    return this.access.kind === 'shared'
  }

  sites(signal?: AbortSignal): Promise<SitesResponse> {
    return this.json('sites', {}, signal)
  }

  aggregate(scope: Scope, goal: string | undefined, signal?: AbortSignal): Promise<AggregateResponse> {
    return this.json('aggregate', { ...params(scope), compare: 'previous_period', ...(goal ? { goal } : {}) }, signal)
  }

  timeseries(scope: Scope, interval: Interval, signal?: AbortSignal): Promise<TimeseriesResponse & { until?: string }> {
    return this.json('timeseries', { ...params(scope), interval }, signal)
  }

  breakdown(scope: Scope, query: BreakdownQuery, signal?: AbortSignal): Promise<Breakdown> {
    return this.json('breakdown', breakdownParams(scope, query), signal)
  }

  goals(site: string, signal?: AbortSignal): Promise<GoalsResponse> {
    return this.json('goals', { site }, signal)
  }

  adoption(scope: Scope, feature: string, interval: Interval, signal?: AbortSignal): Promise<AdoptionResponse> {
    return this.json('adoption', { ...params(scope), feature, interval }, signal)
  }

  cohorts(scope: Scope, feature: string, signal?: AbortSignal): Promise<CohortsResponse> {
    return this.json('adoption/cohorts', { ...params(scope), feature, interval: 'week' }, signal)
  }

  funnel(scope: Scope, steps: string[], signal?: AbortSignal): Promise<FunnelResponse> {
    return this.json('funnel', { ...params(scope), steps: steps.join(',') }, signal)
  }

  consent(scope: Scope, signal?: AbortSignal): Promise<ConsentResponse> {
    // Consent receipts have no dimensions: the API refuses filters here.
    return this.json('consent', { site: scope.site, from: scope.from, to: scope.to }, signal)
  }

  realtime(site: string, signal?: AbortSignal): Promise<RealtimeResponse> {
    return this.json('realtime', { site }, signal)
  }

  integration(site: string, signal?: AbortSignal): Promise<IntegrationResponse> {
    return this.json('realtime/integration', { site }, signal)
  }

  /** A breakdown as the API's CSV (same parameters as the panel shows). */
  breakdownCsv(scope: Scope, query: BreakdownQuery): Promise<Download> {
    return this.file('breakdown', { ...breakdownParams(scope, query), format: 'csv' }, 'csv')
  }

  /** One CSV per panel in a zip. */
  exportZip(scope: Scope): Promise<Download> {
    return this.file('export', params(scope), 'zip')
  }

  private async request(path: string, query: Record<string, string>, accept: string, signal?: AbortSignal): Promise<Response> {
    const search = new URLSearchParams(query).toString()
    let res: Response
    try {
      res = await fetch(`${this.base}/${path}${search ? `?${search}` : ''}`, {
        headers: { ...(this.access.kind === 'key' ? { authorization: `Bearer ${this.access.key}` } : {}), accept },
        credentials: 'omit',
        ...(signal ? { signal } : {}),
      })
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw new ApiError(0, 'network', 'The back office did not answer. Is it running?')
    }
    if (!res.ok) {
      const error = (await res.json().catch(() => undefined)) as Partial<ErrorBody> | undefined
      throw new ApiError(res.status, error?.error ?? 'http', error?.message ?? `The back office answered ${res.status}.`)
    }
    return res
  }

  private async json<T>(path: string, query: Record<string, string>, signal?: AbortSignal): Promise<T> {
    const res = await this.request(path, query, 'application/json', signal)
    return (await res.json()) as T
  }

  private async file(path: string, query: Record<string, string>, extension: string): Promise<Download> {
    const res = await this.request(path, query, extension === 'zip' ? 'application/zip' : 'text/csv')
    const disposition = res.headers.get('content-disposition') ?? ''
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `${query.site ?? 'atspark'}-${path}.${extension}`
    return { blob: await res.blob(), filename }
  }
}

export interface BreakdownQuery {
  dimension: string
  type?: string
  goal?: string
  limit: number
}

function params(scope: Scope): Record<string, string> {
  return { site: scope.site, from: scope.from, to: scope.to, ...(scope.filters ? { filters: scope.filters } : {}) }
}

function breakdownParams(scope: Scope, q: BreakdownQuery): Record<string, string> {
  return { ...params(scope), dimension: q.dimension, ...(q.type ? { type: q.type } : {}), ...(q.goal ? { goal: q.goal } : {}), limit: String(q.limit) }
}

/** Saves a download through a temporary link: the page's CSP allows no navigation elsewhere. */
export function save(download: Download): void {
  const url = URL.createObjectURL(download.blob)
  const link = document.createElement('a')
  link.href = url
  link.download = download.filename
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
