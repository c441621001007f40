// A Kafka broker for the Kafka benchmarks: the test suites' own starter (Maven jars, KRaft single node), transpiled
// once from test/src/support with its module URL kept so it finds test/kafka/pom.xml; KAFKA_BROKERS uses an external one.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { transformSync } from 'esbuild'
import { Kafka, logLevel } from 'kafkajs'

const SUPPORT = new URL('../../test/src/support/', import.meta.url)
const OUT = new URL('../node_modules/.cache/atspark-bench/support/', import.meta.url)

function transpile(name) {
  const source = new URL(`${name}.ts`, SUPPORT)
  const { code } = transformSync(readFileSync(source, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(fileURLToPath(source)).href) },
  })
  writeFileSync(new URL(`${name}.js`, OUT), code)
}

/** Starts (or wraps, with KAFKA_BROKERS) a broker; `{ brokers: string[], stop() }`. */
export async function startBroker() {
  mkdirSync(OUT, { recursive: true })
  for (const name of ['ports', 'kafka-broker']) transpile(name)
  const { startKafka } = await import(new URL('kafka-broker.js', OUT).href)
  return startKafka()
}

export function kafkaClient(brokers) {
  return new Kafka({ clientId: 'atspark-bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
}

/** Committed-offset lag of `groupId` summed over `topic`'s partitions (no commit yet counts as offset 0). */
export async function lag(admin, topic, groupId) {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })])
  const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? [])
  return ends.reduce((sum, p) => sum + Number(p.high) - Math.max(0, done.get(p.partition) ?? 0), 0)
}

/** Resolves with the time (Date.now()) the lag reached 0; throws after `timeoutMs`. */
export async function waitDrained(admin, topic, groupId, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const remaining = await lag(admin, topic, groupId).catch(() => Number.NaN)
    if (remaining === 0) return Date.now()
    if (Date.now() > deadline) throw new Error(`consumer lag still ${remaining} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
