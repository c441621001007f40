import { getJson } from './timing.js'

interface Bucket {
  t: string
  hidden: boolean
  visitors: number | null
  pageviews: number | null
  events: number | null
}

/** uniq (rollup sketches) against uniqExact (raw): ClickHouse documents uniq's error as about 1.6 % at most for large sets. */
const VISITOR_TOLERANCE = 0.02

/**
 * The two paths must give the same answer before their speed is compared: per bucket, events and
 * pageviews exactly, visitors within the sketch's error. Throws with the first differences.
 */
export async function compareTimeseries(baseUrl: string, key: string, query: string): Promise<number> {
  const get = async (source: string) =>
    (await getJson(`${baseUrl}/v1/stats/timeseries?${query}&source=${source}`, key)) as { source: string; buckets: Bucket[] }
  const [rollup, raw] = await Promise.all([get('rollup'), get('raw')])
  if (raw.source !== 'events' || !rollup.source.startsWith('rollup_')) throw new Error(`unexpected sources: rollup → ${rollup.source}, raw → ${raw.source}`)
  const byT = new Map(raw.buckets.map((b) => [b.t, b]))
  const problems: string[] = []
  if (rollup.buckets.length !== raw.buckets.length) problems.push(`${rollup.buckets.length} rollup buckets, ${raw.buckets.length} raw`)
  for (const a of rollup.buckets) {
    const b = byT.get(a.t)
    if (!b) problems.push(`${a.t}: no raw bucket`)
    else if (a.events !== b.events || a.pageviews !== b.pageviews) problems.push(`${a.t}: events ${a.events}/${b.events}, pageviews ${a.pageviews}/${b.pageviews}`)
    else if (Math.abs((a.visitors ?? 0) - (b.visitors ?? 0)) > VISITOR_TOLERANCE * Math.max(1, b.visitors ?? 0)) problems.push(`${a.t}: visitors ${a.visitors}/${b.visitors}`)
  }
  if (problems.length > 0) throw new Error(`timeseries ${query}: rollup and raw disagree (rollup/raw): ${problems.slice(0, 5).join('; ')}`)
  if (rollup.buckets.length === 0) throw new Error(`timeseries ${query}: no buckets at all`)
  return rollup.buckets.length
}
