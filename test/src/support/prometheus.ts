/** One sample of a Prometheus text exposition: name, labels, value. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/** Parses the text format prom-client writes (no escapes inside label values are needed here). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) continue
    const labels: Record<string, string> = {}
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!
    samples.push({ name: match[1]!, labels, value: Number(match[3]) })
  }
  return samples
}

/** Sum of a metric's samples whose labels include `where`. */
export function sum(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0)
}

export async function scrape(url: string): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`)
  if (!res.ok) throw new Error(`GET ${url}/metrics: ${res.status}`)
  return parseMetrics(await res.text())
}
