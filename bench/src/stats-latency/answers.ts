/** What an answer held, in a few words; throws when it holds nothing, since timing an empty answer measures nothing. */

type Body = Record<string, unknown>

const list = (body: Body, key: string): Body[] => (Array.isArray(body[key]) ? (body[key] as Body[]) : [])
const int = (n: unknown) => Number(n).toLocaleString('en-US')

export function summarizeAnswer(endpoint: string, body: Body): string {
  const fail = (why: string): never => {
    throw new Error(`/${endpoint} answered without data (${why}): ${JSON.stringify(body).slice(0, 300)}`)
  }
  switch (endpoint) {
    case 'timeseries':
    case 'adoption': {
      const buckets = list(body, 'buckets')
      const shown = buckets.filter((b) => b.hidden === false).length
      if (shown === 0) fail('every bucket hidden or none')
      return `${buckets.length} buckets${shown < buckets.length ? `, ${buckets.length - shown} hidden` : ''}`
    }
    case 'breakdown': {
      const rows = list(body, 'rows')
      if (rows.length === 0) fail('no row')
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
