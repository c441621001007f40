import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'
import { ENTRY, spawnService } from './service.js'

export interface RunningPipeline {
  ingest: string
  backoffice: string
  demo: string
  dataDir: string
  output: () => string
  /** SIGTERM, then resolves with the exit code once the process has drained and exited. */
  stop: () => Promise<number | null>
  /** Sends a signal to the pipeline process (SIGHUP reloads the tenants file). */
  signal: (signal: NodeJS.Signals) => void
}

/** Starts the built embedded pipeline (`node server/dist/main.js`) on free ports and a temp data dir. */
export async function startPipeline(extraEnv: Record<string, string> = {}): Promise<RunningPipeline> {
  const [ingestPort, backofficePort, demoPort] = [await freePort(), await freePort(), await freePort()]
  const dataDir = extraEnv.ATSPARK_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'atspark-e2e-'))
  const urls = { ingest: `http://localhost:${ingestPort}`, backoffice: `http://localhost:${backofficePort}`, demo: `http://localhost:${demoPort}` }
  const service = await spawnService(
    ENTRY.embedded,
    {
      INGEST_PORT: String(ingestPort),
      BACKOFFICE_PORT: String(backofficePort),
      DEMO_PORT: String(demoPort),
      ATSPARK_DATA_DIR: dataDir,
      // Loopback is the only proxy: tests send public addresses in X-Forwarded-For.
      TRUSTED_PROXIES: 'loopback',
      LOG_LEVEL: 'info',
      // Generated demo traffic would break exact counts; demo-traffic.test.ts turns it on.
      DEMO_TRAFFIC: '0',
      ...extraEnv,
    },
    [`${urls.ingest}/healthz`, `${urls.backoffice}/healthz`],
  )
  const signal = (name: NodeJS.Signals) => {
    const pid = service.pid()
    if (pid !== undefined) process.kill(pid, name)
  }
  return { ...urls, dataDir, output: service.output, stop: service.stop, signal }
}
