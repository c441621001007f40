/** pino's numeric levels as a person reads them. */
const LEVELS: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }

/** Fields every line has, or that say nothing to a person at a terminal. */
const DROPPED = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v'])

/**
 * One pino JSON line as one human line: `14:07:31 info  demo traffic seeded  events=30162 seconds=2.2`.
 * For a terminal only (`npm start` in a shell): piped or redirected output keeps JSON, for machines.
 */
export function humanLogLine(json: string): string {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : ''
  const level = (LEVELS[Number(entry.level)] ?? String(entry.level)).padEnd(5)
  const fields = Object.entries(entry)
    .filter(([key]) => !DROPPED.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
  return `${[time, level, String(entry.msg ?? ''), ...(fields.length > 0 ? [` ${fields.join(' ')}`] : [])].join(' ')}\n`
}

/** A pino destination writing human lines to `out` (a TTY's stdout). */
export function humanLogDestination(out: { write(chunk: string): unknown } = process.stdout): { write(line: string): void } {
  return { write: (line) => void out.write(humanLogLine(line)) }
}
