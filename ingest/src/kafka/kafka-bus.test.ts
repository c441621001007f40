import type { Envelope } from '@atspark/schemas'
import type { Producer, ProducerRecord } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { BusUnavailableError } from '@atspark/runtime'
import { wireEvent } from '../test-fixtures.js'
import { KafkaBus } from './kafka-bus.js'

function envelope(anon: string): Envelope {
  return { v: 1, kind: 'events', org_id: 'o', site_id: 's', received_at: 1, sent_at: 1, ip_sealed: '', ua: '', events: [wireEvent({ a: anon })] }
}

/** A producer double that records sends and can hang or fail; the real broker is exercised in test/. */
function fakeProducer(behaviour: { hang?: boolean; fail?: boolean } = {}) {
  const sends: ProducerRecord[] = []
  const producer = {
    send: async (record: ProducerRecord) => {
      sends.push(record)
      if (behaviour.fail) throw new Error('broker unreachable')
      if (behaviour.hang) await new Promise(() => {})
      return []
    },
    disconnect: async () => {},
  } as unknown as Producer
  return { producer, sends }
}

const options = { topic: 'raw', lingerMs: 5, maxBatchMessages: 100, maxQueuedMessages: 1000, timeoutMs: 200 }

describe('KafkaBus', () => {
  it('produces concurrent publishes in one acks=all send, keyed by visitor', async () => {
    const { producer, sends } = fakeProducer()
    const bus = new KafkaBus(producer, options)
    await Promise.all([bus.publish([envelope('v1')]), bus.publish([envelope('v2')]), bus.publish([envelope('v1')])])
    expect(sends).toHaveLength(1)
    expect(sends[0]).toMatchObject({ topic: 'raw', acks: -1 })
    expect(sends[0]!.messages.map((m) => m.key)).toEqual(['v1', 'v2', 'v1'])
    expect(JSON.parse(String(sends[0]!.messages[0]!.value))).toMatchObject({ kind: 'events', org_id: 'o' })
  })

  it('answers with BusUnavailableError within the timeout when the ack never comes', async () => {
    const { producer } = fakeProducer({ hang: true })
    const bus = new KafkaBus(producer, options)
    const started = Date.now()
    await expect(bus.publish([envelope('v1')])).rejects.toBeInstanceOf(BusUnavailableError)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(bus.ready()).toBe(false)
  })

  it('answers a publish queued behind a hanging send within the timeout of its own start', async () => {
    const { producer, sends } = fakeProducer({ hang: true })
    const bus = new KafkaBus(producer, options)
    const first = bus.publish([envelope('v1')]).catch((err: unknown) => err)
    // Half-way through the first send, which will hang to its end.
    await new Promise((r) => setTimeout(r, 100))
    const started = performance.now()
    await expect(bus.publish([envelope('v2')])).rejects.toBeInstanceOf(BusUnavailableError)
    const waited = performance.now() - started
    expect(await first).toBeInstanceOf(BusUnavailableError)
    // Started 100 ms into a send bounded by 200 ms: the old clock (from the second send's start) answered at ~300 ms.
    expect(waited).toBeLessThan(options.timeoutMs + 60)
    expect(sends.map((s) => s.messages.map((m) => m.key))).toEqual([['v1'], ['v2']])
  })

  it('answers within the timeout even when the send has not started by then (a linger longer than the bound)', async () => {
    const { producer } = fakeProducer()
    const bus = new KafkaBus(producer, { ...options, lingerMs: 500 })
    const started = performance.now()
    await expect(bus.publish([envelope('v1')])).rejects.toBeInstanceOf(BusUnavailableError)
    expect(performance.now() - started).toBeLessThan(options.timeoutMs + 60)
  })

  it('turns a failed send into BusUnavailableError and recovers readiness on the next success', async () => {
    const behaviour = { fail: true }
    const { producer } = fakeProducer(behaviour)
    const bus = new KafkaBus(producer, options)
    await expect(bus.publish([envelope('v1')])).rejects.toBeInstanceOf(BusUnavailableError)
    expect(bus.ready()).toBe(false)
    behaviour.fail = false
    await bus.publish([envelope('v1')])
    expect(bus.ready()).toBe(true)
  })
})
