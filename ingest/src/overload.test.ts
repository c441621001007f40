import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createIngestMetrics } from './metrics.js'
import { shedLoad } from './overload.js'

/** An app whose POSTs wait until released, shedding with the given bounds; the client address comes from a test header. */
function heldApp(bounds: { maxInFlight?: number; maxPerAddress?: number }) {
  const releases: (() => void)[] = []
  const app = new Hono()
  const addressOf = (c: { req: { header(name: string): string | undefined } }) => {
    const a = c.req.header('x-test-address')
    return a === 'exempt' ? undefined : a
  }
  app.use('*', shedLoad(createIngestMetrics(), { ...bounds, addressOf }))
  app.post('/', async (c) => {
    await new Promise<void>((r) => releases.push(r))
    return c.json({ ok: true }, 202)
  })
  const send = (address: string) => app.request('/', { method: 'POST', headers: { 'x-test-address': address } })
  const releaseAll = () => {
    for (const r of releases.splice(0)) r()
  }
  return { send, releaseAll, held: () => releases.length }
}

const tick = () => new Promise((r) => setTimeout(r, 10))

describe('shedLoad', () => {
  it('refuses an address past its in-flight share with 429 too_many_in_flight, while other addresses still get in', async () => {
    const { send, releaseAll, held } = heldApp({ maxInFlight: 10, maxPerAddress: 3 })
    const slow = [send('198.51.100.1'), send('198.51.100.1'), send('198.51.100.1')]
    await tick()
    const refused = await send('198.51.100.1')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ error: 'too_many_in_flight' })
    const other = send('198.51.100.2')
    await tick()
    // The refused request took no slot: three held for the slow address, one for its neighbour.
    expect(held()).toBe(4)
    releaseAll()
    expect((await Promise.all([...slow, other])).map((r) => r.status)).toEqual([202, 202, 202, 202])
    // Slots are given back: the slow address may send again.
    const again = send('198.51.100.1')
    await tick()
    releaseAll()
    expect((await again).status).toBe(202)
  })

  it('keeps the total bound for everyone, and exempt addresses count only against it', async () => {
    const { send, releaseAll } = heldApp({ maxInFlight: 4, maxPerAddress: 1 })
    const exempt = [send('exempt'), send('exempt'), send('exempt')]
    const one = send('198.51.100.1')
    await tick()
    const over = await send('198.51.100.2')
    expect(over.status).toBe(503)
    expect(await over.json()).toMatchObject({ error: 'overloaded' })
    releaseAll()
    expect((await Promise.all([...exempt, one])).map((r) => r.status)).toEqual([202, 202, 202, 202])
  })
})
