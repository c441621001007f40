/** Sequential HTTP timing: one request at a time, so each figure is one query's latency, not a queue's. */

export interface Timed {
  /** Milliseconds from sending the request to having read the whole body. */
  samples: number[]
  /** CPU milliseconds this process spent per timed request (the back office and chDB run in it): work, not queueing. */
  cpu: number[]
  /** The last answer, parsed. */
  body: Record<string, unknown>
}

async function request(url: string, key: string): Promise<{ ms: number; body: Record<string, unknown> }> {
  const started = performance.now()
  const res = await fetch(url, { headers: { authorization: `Bearer ${key}` } })
  const text = await res.text()
  const ms = performance.now() - started
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 500)}`)
  return { ms, body: JSON.parse(text) as Record<string, unknown> }
}

/** `warmup` untimed requests (caches, first-touch of parts), then `runs` timed ones; throws on any non-200. */
export async function timeRequests(url: string, key: string, warmup: number, runs: number): Promise<Timed> {
  let body: Record<string, unknown> = {}
  for (let i = 0; i < warmup; i++) body = (await request(url, key)).body
  const samples: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage()
    const r = await request(url, key)
    const used = process.cpuUsage(c)
    samples.push(r.ms)
    cpu.push((used.user + used.system) / 1000)
    body = r.body
  }
  return { samples, cpu, body }
}

/** Nearest-rank percentile (q in (0, 1]): always one of the measured values. */
export function percentile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!
}

/** One GET, for checks that compare answers. */
export async function getJson(url: string, key: string): Promise<Record<string, unknown>> {
  return (await request(url, key)).body
}
