import type { ClickHouseClient } from '@clickhouse/client'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { batch, event, post } from './support/batches.js'
import { startPipeline } from './support/pipeline.js'
import { freePort } from './support/ports.js'
import { ENTRY } from './support/service.js'
import { openWarehouse, rows } from './support/warehouse.js'

let warehouse: ClickHouseClient | undefined
afterAll(async () => {
  await warehouse?.close()
})

describe('SIGTERM during load', () => {
  it('drains every batch it acknowledged into the warehouse before exiting', async () => {
    const pipeline = await startPipeline()
    const acked: string[] = []
    let refused = 0
    const senders = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 200; i++) {
        const events = Array.from({ length: 10 }, () => event())
        try {
          const res = await post(pipeline.ingest, batch(events), { origin: pipeline.demo })
          if (res.status === 202) acked.push(...events.map((e) => e.id))
          else refused++
        } catch {
          return // the server has closed: this sender is done
        }
      }
    })
    // Let load build up, then stop mid-stream.
    await new Promise((r) => setTimeout(r, 400))
    const exit = pipeline.stop()
    await Promise.all(senders)
    expect(await exit).toBe(0)
    expect(acked.length).toBeGreaterThan(0)

    warehouse = openWarehouse(pipeline.dataDir)
    const [stored] = await rows<{ n: string; u: string }>(warehouse, 'SELECT count() AS n, uniqExact(event_id) AS u FROM atspark.events')
    const [ackedStored] = await rows<{ n: string }>(
      warehouse,
      `SELECT count() AS n FROM atspark.events WHERE event_id IN (${acked.map((id) => `'${id}'`).join(',')})`,
    )
    // Every acknowledged event is there exactly once; nothing was lost in the drain.
    expect(ackedStored?.n).toBe(String(acked.length))
    expect(stored?.u).toBe(stored?.n)
    // Batches refused during shutdown (503) were never taken, so at most the acknowledged ones plus in-flight ones exist.
    expect(Number(stored?.n)).toBeGreaterThanOrEqual(acked.length)
    console.log(`drain: ${acked.length} events acknowledged, ${refused} batches refused while stopping, ${stored?.n} rows stored`)
  })
})

describe('SIGTERM during start-up', () => {
  it('waits for the start to finish, drains, and exits 0 instead of dying half-open', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'atspark-early-stop-'))
    const env = { PATH: process.env.PATH, ATSPARK_DATA_DIR: dataDir, INGEST_PORT: String(await freePort()), BACKOFFICE_PORT: String(await freePort()), DEMO_PORT: String(await freePort()), DEMO_TRAFFIC: '0', LOG_LEVEL: 'info' }
    const child = spawn(process.execPath, [ENTRY.embedded], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
    // The first log line comes while the warehouse opens, long before anything listens.
    while (output === '') await new Promise((r) => setTimeout(r, 10))
    child.kill('SIGTERM')
    expect(await exited, output).toEqual({ code: 0, signal: null })
    expect(output).toContain('stopped cleanly')
    expect(output).not.toContain('atSpark telemetry is running')
    // Closed properly: the same data directory opens again at once.
    const again = await startPipeline({ ATSPARK_DATA_DIR: dataDir })
    expect(await again.stop()).toBe(0)
  })
})
