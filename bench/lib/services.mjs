// The built services as operators run them (server/dist/main.js, ingest/dist/main.js,
// processor/dist/main.js), on free loopback ports, fresh data dirs and the bench tenant.
import { mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startNode } from './procs.mjs'
import { writeBenchConfig } from './tenants.mjs'

export const ENTRY = {
  embedded: fileURLToPath(new URL('../../server/dist/main.js', import.meta.url)),
  ingest: fileURLToPath(new URL('../../ingest/dist/main.js', import.meta.url)),
  processor: fileURLToPath(new URL('../../processor/dist/main.js', import.meta.url)),
  /** The Kafka processor with the back office in its process: the privacy API over the processor's chDB. */
  singleNode: fileURLToPath(new URL('../../server/dist/main-single-node.js', import.meta.url)),
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** `npm start`'s process on the bench tenant: ingest, embedded bus, processor and chDB in one. */
export async function startEmbedded(dir, { nodeArgs = [], env = {} } = {}) {
  mkdirSync(dir, { recursive: true })
  const config = writeBenchConfig(dir)
  const [ingestPort, backofficePort, demoPort] = [await freePort(), await freePort(), await freePort()]
  const service = await startNode(ENTRY.embedded, {
    nodeArgs,
    env: {
      ...config.env,
      INGEST_PORT: String(ingestPort),
      BACKOFFICE_PORT: String(backofficePort),
      DEMO_PORT: String(demoPort),
      ATSPARK_DATA_DIR: join(dir, 'data'),
      DEMO_TRAFFIC: '0',
      ...env,
    },
    health: `http://127.0.0.1:${backofficePort}/healthz`,
  })
  return { service, ingestUrl: `http://127.0.0.1:${ingestPort}`, backofficeUrl: `http://127.0.0.1:${backofficePort}`, privacyKey: config.privacyKey }
}

/** Ingest and processor as separate processes on `brokers`, with their own topics and group (`withBackoffice`: the single-node process, for the privacy API). */
export async function startDistributed(dir, brokers, { ingestNodeArgs = [], processorNodeArgs = [], withBackoffice = false } = {}) {
  mkdirSync(dir, { recursive: true })
  const config = writeBenchConfig(dir)
  const id = Math.random().toString(36).slice(2, 10)
  const shared = { ...config.env, KAFKA_BROKERS: brokers, ATSPARK_TOPIC_RAW: `atspark.bench.raw.${id}`, ATSPARK_TOPIC_DLQ: `atspark.bench.dlq.${id}` }
  const [ingestPort, backofficePort] = [await freePort(), await freePort()]
  const ingest = await startNode(ENTRY.ingest, { nodeArgs: ingestNodeArgs, env: { ...shared, INGEST_PORT: String(ingestPort) }, health: `http://127.0.0.1:${ingestPort}/healthz` })
  const groupId = `atspark-bench-${id}`
  // `backofficeUrl` is the processor's operator port (/readyz, /metrics), or its back office with `withBackoffice`.
  const processor = await startNode(withBackoffice ? ENTRY.singleNode : ENTRY.processor, {
    nodeArgs: processorNodeArgs,
    env: { ...shared, PROCESSOR_PORT: String(backofficePort), BACKOFFICE_PORT: String(backofficePort), ATSPARK_DATA_DIR: join(dir, 'warehouse'), KAFKA_GROUP_ID: groupId },
    health: `http://127.0.0.1:${backofficePort}/readyz`,
  })
  return {
    ingest,
    processor,
    ingestUrl: `http://127.0.0.1:${ingestPort}`,
    backofficeUrl: `http://127.0.0.1:${backofficePort}`,
    privacyKey: config.privacyKey,
    topic: shared.ATSPARK_TOPIC_RAW,
    groupId,
    stop: () => Promise.all([ingest.stop(), processor.stop()]),
  }
}
