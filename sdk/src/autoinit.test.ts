import type { WireBatch } from '@atspark/schemas'
import { describe, expect, test, vi } from 'vitest'
import { type QueuedCall, replay } from './autoinit.js'
import { SNIPPET } from './snippet.js'
import { ENDPOINT, loadSdk, settle, stubNetwork } from './test-support.js'

async function fromScript(attributes: Record<string, string>) {
  const sdk = await loadSdk()
  const { initFromScript } = await import('./autoinit.js')
  const script = document.createElement('script')
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value)
  initFromScript(script)
  return sdk
}

const tag = { 'data-site': 'key-1', 'data-endpoint': 'https://in.example', 'data-mode': 'opt-out' }
const sentEvents = (batches: WireBatch[]) => batches.flatMap((b) => b.e.map((e) => `${e.t}:${e.n ?? ''}`))

describe('initFromScript', () => {
  test('reads data-site, data-endpoint, data-mode and data-policy-revision, and sends a pageview', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ ...tag, 'data-policy-revision': 'r7' })
    await sdk.flush()
    expect(net.fetch.mock.calls[0]![0]).toBe('https://in.example/v1/batch')
    expect(net.posts()[0]).toMatchObject({ k: 'key-1', c: { a: true, r: 'r7' }, e: [{ t: 'pageview' }] })
    expect(sdk.consent.get()).toMatchObject({ analytics: true, decided: false })
  })

  test('data-autocapture="false" sends no pageview and records no clicks', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ ...tag, 'data-autocapture': 'false' })
    document.body.innerHTML = '<button id="b" data-atspark="cta">Go</button>'
    document.getElementById('b')!.click()
    await sdk.flush()
    expect(net.requests()).toBe(0)
    sdk.track('manual')
    await sdk.flush()
    expect(net.posts()[0]!.e.map((e) => e.n)).toEqual(['manual'])
  })

  test('data-pageviews="false", data-clicks="false" and data-outbound="false" turn off each part', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ ...tag, 'data-pageviews': 'false', 'data-outbound': 'false' })
    document.body.innerHTML = '<button id="b" data-atspark="cta">Go</button><a id="a" href="https://partner.example/">P</a>'
    document.getElementById('a')!.addEventListener('click', (e) => e.preventDefault())
    document.getElementById('b')!.click()
    document.getElementById('a')!.click()
    await sdk.flush()
    expect(sentEvents(net.posts())).toEqual(['click:cta'])

    const net2 = stubNetwork()
    const other = await fromScript({ ...tag, 'data-clicks': 'false' })
    document.getElementById('b')!.click()
    await other.flush()
    expect(sentEvents(net2.posts())).toEqual(['pageview:'])
  })

  test('without data-mode the site is opt-in: nothing is sent before a grant', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ 'data-site': 'k', 'data-endpoint': 'https://in.example' })
    await sdk.flush()
    expect(net.requests()).toBe(0)
    expect(sdk.consent.get()).toMatchObject({ analytics: false, decided: false })
  })

  test('a tag without data-site or data-endpoint, or no tag, leaves the tracker for page code', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ 'data-endpoint': 'https://in.example', 'data-mode': 'opt-out' })
    const { initFromScript } = await import('./autoinit.js')
    initFromScript(null)
    sdk.init({ site: 'manual', endpoint: 'https://in.example', mode: 'opt-out' })
    await sdk.flush()
    await settle()
    expect(net.posts().map((b) => b.k)).toEqual(['manual'])
  })
})

describe('replay', () => {
  test('runs init calls first, then every call in order; nested names reach consent.*; a failing call does not stop the rest', async () => {
    const calls: string[] = []
    const api = {
      init: (o: unknown) => calls.push(`init ${JSON.stringify(o)}`),
      track: (name: string) => calls.push(`track ${name}`),
      consent: { set: (c: unknown, source: string) => calls.push(`consent.set ${JSON.stringify(c)} ${source}`) },
      reset: () => {
        throw new Error('page bug')
      },
    }
    replay(api, [
      ['track', ['a']],
      ['consent.set', [{ analytics: true }, 'banner']],
      ['reset', []],
      ['nope', []],
      ['consent.nope', []],
      ['init', [{ site: 's' }]],
      ['track', ['b']],
    ])
    expect(calls).toEqual(['init {"site":"s"}', 'track a', 'consent.set {"analytics":true} banner', 'init {"site":"s"}', 'track b'])
  })
})

describe('the snippet', () => {
  type Stubbed = { q?: QueuedCall[]; consent?: Record<string, unknown>; prefs?: Record<string, unknown> } & Record<string, unknown>
  const run = (code: string) => new Function(code)()
  const global = () => (window as unknown as { atspark: Stubbed }).atspark

  test('stubs every method and records calls made before the script loads, as [name, args]', () => {
    run(SNIPPET)
    const stub = global() as Record<string, (...args: unknown[]) => unknown> & Stubbed
    stub.init!({ site: 's' })
    stub.track!('early', { a: 1 })
    ;(stub.consent!.set as (...args: unknown[]) => void)({ analytics: true }, 'banner')
    ;(stub.prefs!.set as (...args: unknown[]) => void)('theme', 'dark')
    for (const name of ['page', 'query', 'dashboard', 'feature', 'identify', 'reset', 'flush']) expect(typeof stub[name], name).toBe('function')
    expect(typeof stub.consent!.onChange).toBe('function')
    // No consent.get: the consent banner bundle waits for the real API, not the stub.
    expect(stub.consent!.get).toBeUndefined()
    expect(stub.q).toEqual([
      ['init', [{ site: 's' }]],
      ['track', ['early', { a: 1 }]],
      ['consent.set', [{ analytics: true }, 'banner']],
      ['prefs.set', ['theme', 'dark']],
    ])
    run(SNIPPET)
    expect(global().q).toHaveLength(4)
  })

  test('the script replays the queue after its init: consent granted before load sends the early events; listeners are registered', async () => {
    const net = stubNetwork()
    run(SNIPPET)
    const stub = global() as unknown as typeof import('./index.js')
    const seen: unknown[] = []
    stub.track('early')
    stub.consent.onChange((state) => seen.push(state.analytics))
    stub.consent.set({ analytics: true }, 'banner')
    stub.init({ site: 'k', endpoint: ENDPOINT, mode: 'opt-in', autocapture: false })
    stub.query('q1')

    const sdk = await loadSdk()
    await import('./iife.js')
    const api = global()
    expect(api.q).toBeUndefined()
    expect(api.track).toBe(sdk.track)
    await sdk.flush()
    expect(net.receipts().map((r) => r.src)).toEqual(['banner'])
    expect(sentEvents(net.posts())).toEqual(['custom:early', 'query:q1'])
    expect(seen).toEqual([true])
    sdk.consent.set({ analytics: false })
    expect(seen).toEqual([true, false])
  })

  test('a second copy of the script, or the snippet after it, changes nothing', async () => {
    stubNetwork()
    await loadSdk()
    await import('./iife.js')
    const api = global()
    run(SNIPPET)
    vi.resetModules()
    await import('./iife.js')
    expect(global()).toBe(api)
    expect(api.q).toBeUndefined()
  })
})
