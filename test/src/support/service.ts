import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** Built entry points, run as their own processes the way operators run them. */
export const ENTRY = {
  embedded: fileURLToPath(new URL('../../../server/dist/main.js', import.meta.url)),
  ingest: fileURLToPath(new URL('../../../ingest/dist/main.js', import.meta.url)),
  processor: fileURLToPath(new URL('../../../processor/dist/main.js', import.meta.url)),
  /** The Kafka processor and the back office in one process: the one way to serve the privacy API over a processor's chDB. */
  singleNode: fileURLToPath(new URL('../../../server/dist/main-single-node.js', import.meta.url)),
  backoffice: fileURLToPath(new URL('../../../backoffice/dist/main.js', import.meta.url)),
} as const

export interface Service {
  /** Everything the process printed, for assertions on logs. */
  output: () => string
  /** SIGTERM, then resolves with the exit code once it has exited (SIGKILL after 30 s). */
  stop: () => Promise<number | null>
  /** SIGKILL at once, no chance to clean up. */
  kill: () => Promise<void>
  pid: () => number | undefined
  /** Resolves when the process has exited and its output is read, however it ended (e.g. a failpoint's own SIGKILL). */
  exited: () => Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Starts `node <script>` with exactly `env` (plus PATH) and waits until each health URL answers 2xx. */
export async function spawnService(script: string, env: Record<string, string>, healthUrls: string[]): Promise<Service> {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  const service: Service = {
    output: () => output,
    stop: () => stopChild(child, 'SIGTERM'),
    kill: async () => {
      await stopChild(child, 'SIGKILL')
    },
    pid: () => child.pid,
    exited: () => exit,
  }
  await waitHealthy(child, healthUrls, () => output)
  return service
}

async function waitHealthy(child: ChildProcess, urls: string[], output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  for (const url of urls) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}:\n${output()}`)
      if (Date.now() > deadline) throw new Error(`not healthy at ${url} within 60 s:\n${output()}`)
      const ok = await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('exit', (code) => {
      clearTimeout(killer)
      resolve(code)
    })
    child.kill(signal)
  })
}
