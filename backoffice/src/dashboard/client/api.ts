import type { AdoptionResponse, BreakdownResponse, ConsentResponse, SitesResponse, StatsDimension, StatsError, TimeseriesResponse } from '@atspark/schemas'
import type { z } from 'zod'
import type { Interval } from './range.js'

type ErrorBody = z.infer<typeof StatsError>
type EventType = NonNullable<BreakdownResponse['type']>

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

export interface RangeParams {
  site: string
  from: string
  to: string
}

/** The stats API of this back office, with the analyst's bearer key (never in the URL). */
export class StatsClient {
  constructor(
    private readonly key: string,
    private readonly base = '/v1/stats',
  ) {}

  sites(signal?: AbortSignal): Promise<SitesResponse> {
    return this.get('sites', {}, signal)
  }

  timeseries(range: RangeParams, interval: Interval, signal?: AbortSignal): Promise<TimeseriesResponse> {
    return this.get('timeseries', { ...range, interval }, signal)
  }

  breakdown(range: RangeParams, dimension: StatsDimension, type: EventType | undefined, limit: number, signal?: AbortSignal): Promise<BreakdownResponse> {
    return this.get('breakdown', { ...range, dimension, ...(type ? { type } : {}), limit: String(limit) }, signal)
  }

  adoption(range: RangeParams, feature: string, interval: Interval, signal?: AbortSignal): Promise<AdoptionResponse> {
    return this.get('adoption', { ...range, feature, interval }, signal)
  }

  consent(range: RangeParams, signal?: AbortSignal): Promise<ConsentResponse> {
    return this.get('consent', { ...range }, signal)
  }

  private async get<T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<T> {
    const query = new URLSearchParams(params).toString()
    let res: Response
    try {
      res = await fetch(`${this.base}/${path}${query ? `?${query}` : ''}`, {
        headers: { authorization: `Bearer ${this.key}`, accept: 'application/json' },
        credentials: 'omit',
        ...(signal ? { signal } : {}),
      })
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err
      throw new ApiError(0, 'network', 'The back office did not answer. Is it running?')
    }
    const body: unknown = await res.json().catch(() => undefined)
    if (!res.ok) {
      const error = body as Partial<ErrorBody> | undefined
      throw new ApiError(res.status, error?.error ?? 'http', error?.message ?? `The back office answered ${res.status}.`)
    }
    return body as T
  }
}
