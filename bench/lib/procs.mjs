// Child processes for the benchmarks: services under test, ceilings and load generators, each its own process,
// optionally pinned to a CPU, with their RSS read from /proc and their output kept for errors.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'

/** Pinning (taskset) keeps a server and its load generator off each other's core; BENCH_PIN=0 turns it off. */
export const PIN = process.env.BENCH_PIN !== '0' && cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0

const live = new Set()
const killLive = () => {
  for (const child of live) child.kill('SIGKILL')
}
process.once('exit', killLive)
// Ctrl-C or a kill ends no child by name: exactly the processes this run started.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    killLive()
    process.exit(130)
  })
}

/**
 * Starts `node [nodeArgs] script [args]` with `env` added to ours. Resolves once `ready(output)` returns a value
 * (polled) or a health URL answers 2xx; rejects if the process exits first or after `timeoutMs`.
 */
export async function startNode(script, { args = [], nodeArgs = [], env = {}, cpu, ready, health, timeoutMs = 90_000, cwd } = {}) {
  const command = PIN && cpu !== undefined ? 'taskset' : process.execPath
  const argv = [...(command === 'taskset' ? ['-c', String(cpu), process.execPath] : []), ...nodeArgs, script, ...args]
  const spawnedAt = Date.now()
  const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], cwd })
  live.add(child)
  let output = ''
  const keep = (d) => {
    output = (output + d.toString()).slice(-200_000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  exited.then(() => live.delete(child))
  const service = {
    pid: child.pid,
    spawnedAt,
    output: () => output,
    exited,
    rssMB: () => rssMB(child.pid),
    /** SIGTERM (SIGKILL after `graceMs`), resolving with the exit code. */
    stop: async (graceMs = 30_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      child.kill('SIGTERM')
      const { code } = await exited
      clearTimeout(timer)
      return code
    },
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${script} exited (${child.exitCode ?? child.signalCode}) before ready:\n${output.slice(-4000)}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${script} not ready within ${timeoutMs} ms:\n${output.slice(-4000)}`)
    }
    if (ready) {
      const value = ready(output)
      if (value !== undefined) return Object.assign(service, { ready: value })
    } else if (health && (await fetch(health).then((r) => r.ok, () => false))) {
      return service
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The first `{"ready": …}` JSON line a bench server prints. */
export function readyLine(output) {
  const line = output.split('\n').find((l) => l.startsWith('{"ready"'))
  return line ? JSON.parse(line).ready : undefined
}

/** Resident set size in MB from /proc, NaN once the process is gone. */
export function rssMB(pid) {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb ? Number(kb) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100
  } catch {
    return 100
  }
})()

/** User + system CPU seconds `pid` has used (its own threads, not its children); NaN once it is gone. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS
  } catch {
    return Number.NaN
  }
}

/** Seconds `pid`'s main thread spent runnable but waiting for a core (/proc/<pid>/schedstat): the machine's contention. */
export function waitSeconds(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9
  } catch {
    return Number.NaN
  }
}

/** `field` ('cpu' or 'wait') seconds per second between epoch ms `from` and `to`, from sampleRss's samples. */
export function cpuShare(samples, from, to, field = 'cpu') {
  const inside = samples.filter((s) => s.at >= from && s.at <= to && Number.isFinite(s[field]))
  if (inside.length < 2) return Number.NaN
  const [a, b] = [inside[0], inside[inside.length - 1]]
  return (b[field] - a[field]) / ((b.at - a.at) / 1000)
}

/** Samples `pid`'s RSS, CPU and run-queue wait every `everyMs` until stopped; returns [{ t (s since start), at (epoch ms), mb, cpu (s), wait (s) }]. */
export function sampleRss(pid, everyMs = 500) {
  const started = performance.now()
  const samples = []
  const tick = () => samples.push({ t: (performance.now() - started) / 1000, at: Date.now(), mb: rssMB(pid), cpu: cpuSeconds(pid), wait: waitSeconds(pid) })
  tick()
  const timer = setInterval(tick, everyMs)
  return {
    samples,
    stop: () => {
      clearInterval(timer)
      tick()
      return samples.filter((s) => Number.isFinite(s.mb))
    },
    /** CPU share of one core between two epoch times, so far. */
    cpu: (from, to) => cpuShare(samples, from, to),
    /** Share of that time the main thread waited for a core. */
    wait: (from, to) => cpuShare(samples, from, to, 'wait'),
  }
}

/** Runs a node script to completion (bounded by `timeoutMs`) and parses the last JSON line it printed. */
export function runNodeJson(script, { args = [], nodeArgs = [], env = {}, cpu, timeoutMs = 300_000 } = {}) {
  const command = PIN && cpu !== undefined ? 'taskset' : process.execPath
  const argv = [...(command === 'taskset' ? ['-c', String(cpu), process.execPath] : []), ...nodeArgs, script, ...args]
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    live.add(child)
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err = (err + d).slice(-8000)))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      const last = out.trim().split('\n').filter((l) => l.startsWith('{')).pop()
      if (code === 0 && last) resolve(JSON.parse(last))
      else reject(new Error(`${script} failed (${code ?? signal}):\n${err || out.slice(-4000)}`))
    })
  })
}
