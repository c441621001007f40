/** What an answer held, in a few words; throws when it holds nothing, since timing an empty answer measures nothing. */

type Body = Record<string, unknown>

const list = (body: Body, key: string): Body[] => (Array.isArray(body[key]) ? (body[key] as Body[]) : [])
const int = (n: unknown) => Number(n).toLocaleString('en-US')

/** Throws when a shown number comes from fewer than k visitors (a hidden one is null, never a small count). */
function checkK(endpoint: string, items: readonly Body[], k: number): void {
  for (const item of items) {
    const v = item.visitors
    if (typeof v === 'number' && v > 0 && v < k) throw new Error(`/${endpoint} showed ${v} visitors, under k = ${k}: ${JSON.stringify(item).slice(0, 200)}`)
  }
}

export function summarizeAnswer(endpoint: string, body: Body, k = 5): string {
  const fail = (why: string): never => {
    throw new Error(`/${endpoint} answered without data (${why}): ${JSON.stringify(body).slice(0, 300)}`)
  }
  switch (endpoint) {
    case 'aggregate': {
      const metrics = (body.metrics ?? {}) as Record<string, Body>
      const visitors = metrics.visitors?.value
      if (body.hidden !== false || typeof visitors !== 'number') fail('hidden')
      if ((visitors as number) < k) fail(`${visitors} visitors under k`)
      const conv = metrics.conversions ? `, ${int(metrics.conversions.value)} conversions` : ''
      const prev = metrics.visitors?.previous !== undefined ? ` (previous ${metrics.visitors.previous === null ? 'hidden' : int(metrics.visitors.previous)})` : ''
      return `${int(visitors)} visitors${prev}, ${int(metrics.visits?.value)} visits, bounce ${Number(metrics.bounce_rate?.value).toFixed(2)}${conv}`
    }
    case 'realtime': {
      const minutes = list(body, 'minutes')
      if (minutes.length !== 30) fail(`${minutes.length} minutes, not 30`)
      checkK(endpoint, minutes, k)
      if (typeof body.visitors_5m !== 'number') fail('no visitors in the last 5 minutes shown')
      return `${int(body.visitors_5m)} visitors in 5 min, ${minutes.filter((m) => m.events !== null).length} minutes shown`
    }
    case 'realtime/integration': {
      const humans = (body.humans ?? {}) as Body
      const bots = (body.bots ?? {}) as Body
      if (typeof humans.events !== 'number' || body.last_event_at === null) fail('no human events in the last 30 minutes')
      return `${int(humans.events)} human events, ${int(bots.events)} bot events, last at ${String(body.last_event_at).slice(11, 19)}`
    }
    case 'timeseries':
    case 'adoption': {
      const buckets = list(body, 'buckets')
      const shown = buckets.filter((b) => b.hidden === false).length
      if (shown === 0) fail('every bucket hidden or none')
      checkK(endpoint, buckets, k)
      return `${buckets.length} buckets${shown < buckets.length ? `, ${buckets.length - shown} hidden` : ''}`
    }
    case 'breakdown': {
      const rows = list(body, 'rows')
      if (rows.length === 0) fail('no row')
      checkK(endpoint, [...rows, ...(body.other ? [body.other as Body] : [])], k)
      return `${rows.length} rows${body.other ? ' + other' : ''}`
    }
    case 'adoption/cohorts': {
      const cohorts = list(body, 'cohorts')
      if (!cohorts.some((c) => c.hidden === false)) fail('no cohort shown')
      return `${cohorts.length} cohorts`
    }
    case 'funnel': {
      const steps = list(body, 'steps')
      const last = steps.at(-1)
      if (typeof steps[1]?.visitors !== 'number') fail('the second step is hidden')
      checkK(endpoint, steps, k)
      return `${int(steps[0]?.visitors)} → ${last?.visitors === null ? 'hidden' : int(last?.visitors)} visitors`
    }
    case 'consent':
      if (typeof body.grants !== 'number') fail('grants hidden')
      return `${int(body.grants)} grants, ${body.refusals === null ? 'hidden' : int(body.refusals)} refusals`
    case 'sites':
      if (list(body, 'sites').length === 0) fail('no site')
      return `${list(body, 'sites').length} sites`
    default:
      return ''
  }
}
