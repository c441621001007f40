// What the figures were measured on: they only compare within one run on one machine.
import { execFileSync } from 'node:child_process'
import { cpus, freemem, loadavg, release, totalmem } from 'node:os'

function quiet(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim()
  } catch {
    return 'unknown'
  }
}

export function machineInfo() {
  const cpu = cpus()
  return {
    date: new Date().toISOString(),
    cpu: `${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} free at start)`,
    'load average at start': loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    os: `Linux ${release()}`,
    node: process.version,
    commit: quiet('git', ['rev-parse', '--short', 'HEAD']),
  }
}
