// The built ingest app (validation, tenant and origin checks, consent gate, IP sealing, metrics) in front of its
// real Kafka bus code, whose producer acknowledges at once: ingest's own cost with the bus taken out.
import { randomBytes } from 'node:crypto'
import { compileTrust, createLogger, listen, TenantDirectory } from '@atspark/runtime'
import { createIngestApp, createIngestMetrics, KafkaBus } from '@atspark/ingest'
import { benchTenants } from '../lib/tenants.mjs'

const tenants = TenantDirectory.from(benchTenants())
const keyring = { active: 'b1', keys: new Map([['b1', randomBytes(32)]]) }
// Serialization and group-commit stay (they are ingest's code); only the broker round trip is gone.
const producer = { send: async () => [], disconnect: async () => {} }
const bus = new KafkaBus(producer, { topic: 'bench', lingerMs: Number(process.env.KAFKA_LINGER_MS ?? 0), maxBatchMessages: 1_000, maxQueuedMessages: 20_000, timeoutMs: 5_000 })
const app = createIngestApp({
  tenants: () => tenants,
  bus,
  trust: compileTrust(['loopback']),
  ipKeyring: () => keyring,
  metrics: createIngestMetrics(),
  logger: createLogger('atspark-ingest', 'warn'),
})
const server = await listen(app, 0, '127.0.0.1')
console.log(JSON.stringify({ ready: { port: server.port } }))
// A clean exit, so --cpu-prof can write its profile.
process.once('SIGTERM', async () => {
  await server.close()
  await bus.close()
  process.exit(0)
})
