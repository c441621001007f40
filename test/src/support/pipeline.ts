import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './ports.js'

const MAIN = fileURLToPath(new URL('../../../processor/dist/main-embedded.js', import.meta.url))

export interface RunningPipeline {
  ingest: string
  backoffice: string
  demo: string
  dataDir: string
  /** Everything the process printed, for assertions on logs. */
  output: () => string
  /** SIGTERM, then resolves with the exit code once the process has drained and exited. */
  stop: () => Promise<number | null>
}

/** Starts the built embedded pipeline (`node processor/dist/main-embedded.js`) on free ports and a temp data dir. */
export async function startPipeline(extraEnv: Record<string, string> = {}): Promise<RunningPipeline> {
  const [ingestPort, backofficePort, demoPort] = [await freePort(), await freePort(), await freePort()]
  const dataDir = mkdtempSync(join(tmpdir(), 'atspark-e2e-'))
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      INGEST_PORT: String(ingestPort),
      BACKOFFICE_PORT: String(backofficePort),
      DEMO_PORT: String(demoPort),
      ATSPARK_DATA_DIR: dataDir,
      // Loopback is the only proxy: tests send public addresses in X-Forwarded-For.
      TRUSTED_PROXIES: 'loopback',
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()))
  const pipeline: RunningPipeline = {
    ingest: `http://localhost:${ingestPort}`,
    backoffice: `http://localhost:${backofficePort}`,
    demo: `http://localhost:${demoPort}`,
    dataDir,
    output: () => output,
    stop: () => stopChild(child),
  }
  await waitHealthy(child, [pipeline.ingest, pipeline.backoffice], () => output)
  return pipeline
}

async function waitHealthy(child: ChildProcess, urls: string[], output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  for (const url of urls) {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`pipeline exited with ${child.exitCode}:\n${output()}`)
      if (Date.now() > deadline) throw new Error(`pipeline not healthy at ${url} within 60 s:\n${output()}`)
      const ok = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
      if (ok) break
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.once('exit', (code) => {
      clearTimeout(killer)
      resolve(code)
    })
    child.kill('SIGTERM')
  })
}
