// Kafka path throughput and freshness on this machine: ingest alone, processor alone, then end to end.
// Run: npm run bench:kafka (builds first). Figures vary with the machine's load; compare within one run.
import { expect, inject, it } from 'vitest'
import { sendLoad } from '../test/src/support/batches.js'
import { startDistributed, TEST_ORIGIN, WRITE_KEYS } from '../test/src/support/distributed.js'

const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000)
const BATCH = 50
const CONCURRENCY = 16

function quantile(text: string, q: string): number {
  const m = new RegExp(`^atspark_processor_freshness_seconds\\{quantile="${q}"\\} ([0-9.e+-]+)`, 'm').exec(text)
  return Number(m?.[1])
}

it('measures the Kafka path', async () => {
  const d = await startDistributed(inject('kafkaBrokers'))
  const rows: string[] = []
  try {
    // 1. Ingest alone: the processor is stopped, so this is HTTP → validation → acks=all produce.
    expect(await d.processor.stop()).toBe(0)
    let t = performance.now()
    const ingestOnly = await sendLoad(d.ingestUrl, EVENTS, { batchSize: BATCH, concurrency: CONCURRENCY, writeKey: WRITE_KEYS.a, origin: TEST_ORIGIN })
    const ingestSeconds = (performance.now() - t) / 1000
    expect(ingestOnly.acked).toHaveLength(EVENTS)
    rows.push(`ingest only (HTTP → Kafka, acks=all) | ${EVENTS} | ${ingestSeconds.toFixed(2)} | ${Math.round(EVENTS / ingestSeconds)}`)

    // 2. Processor alone: drain the backlog ingest just wrote.
    await d.restartProcessor()
    t = performance.now()
    await d.waitDrained(600_000)
    const procSeconds = (performance.now() - t) / 1000
    rows.push(`processor only (Kafka → enrich → warehouse) | ${EVENTS} | ${procSeconds.toFixed(2)} | ${Math.round(EVENTS / procSeconds)}`)

    // 3. End to end with a fresh processor, so the freshness summary holds only this phase.
    expect(await d.processor.stop()).toBe(0)
    await d.restartProcessor()
    t = performance.now()
    const e2e = await sendLoad(d.ingestUrl, EVENTS, { batchSize: BATCH, concurrency: CONCURRENCY, writeKey: WRITE_KEYS.b, origin: TEST_ORIGIN })
    await d.waitDrained(600_000)
    const e2eSeconds = (performance.now() - t) / 1000
    expect(e2e.acked).toHaveLength(EVENTS)
    const metrics = await (await fetch(`${d.backofficeUrl}/metrics`)).text()
    rows.push(`end to end (HTTP → Kafka → warehouse, drained) | ${EVENTS} | ${e2eSeconds.toFixed(2)} | ${Math.round(EVENTS / e2eSeconds)}`)
    console.log(
      [
        `\nKafka path, ${EVENTS} events in batches of ${BATCH}, ${CONCURRENCY} concurrent senders, broker and services on this machine`,
        'phase | events | seconds | events/s',
        '---|---:|---:|---:',
        ...rows,
        `\nfreshness, ingest receipt → row queryable (end-to-end phase): p50 ${(quantile(metrics, '0.5') * 1000).toFixed(0)} ms, p95 ${(quantile(metrics, '0.95') * 1000).toFixed(0)} ms, p99 ${(quantile(metrics, '0.99') * 1000).toFixed(0)} ms`,
      ].join('\n'),
    )
  } finally {
    await d.stopAll()
  }
})
