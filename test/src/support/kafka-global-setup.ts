import type { TestProject } from 'vitest/node'
import { startKafka } from './kafka-broker.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Comma-separated bootstrap addresses of the run's broker (KAFKA_BROKERS format). */
    kafkaBrokers: string
  }
}

/** One real Kafka broker for the whole run (or the one KAFKA_BROKERS names), shared by every suite through inject('kafkaBrokers'). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now()
  const broker = await startKafka()
  const where = broker.external ? 'external broker' : `broker ready in ${((Date.now() - started) / 1000).toFixed(1)} s, log dir ${broker.logDir}`
  console.log(`[kafka] ${broker.brokers.join(',')} (${where})`)
  project.provide('kafkaBrokers', broker.brokers.join(','))
  return () => broker.stop()
}
