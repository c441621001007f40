import { describe, expect, test } from 'vitest'
import { loadSdk, settle, stubNetwork } from './test-support.js'

async function fromScript(attributes: Record<string, string>) {
  const sdk = await loadSdk()
  const { initFromScript } = await import('./autoinit.js')
  const script = document.createElement('script')
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value)
  initFromScript(script)
  return sdk
}

describe('initFromScript', () => {
  test('reads data-site, data-endpoint, data-mode and data-policy-revision, and sends a pageview', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ 'data-site': 'key-1', 'data-endpoint': 'https://in.example', 'data-mode': 'opt-out', 'data-policy-revision': 'r7' })
    await sdk.flush()
    expect(net.fetch.mock.calls[0]![0]).toBe('https://in.example/v1/batch')
    expect(net.posts()[0]).toMatchObject({ k: 'key-1', c: { r: 'r7' }, e: [{ t: 'pageview' }] })
    expect(sdk.consent.get().mode).toBe('opt-out')
  })

  test('data-autocapture="false" sends no pageview', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ 'data-site': 'k', 'data-endpoint': 'https://in.example', 'data-mode': 'opt-out', 'data-autocapture': 'false' })
    await sdk.flush()
    expect(net.requests()).toBe(0)
    sdk.track('manual')
    await sdk.flush()
    expect(net.posts()[0]!.e.map((e) => e.n)).toEqual(['manual'])
  })

  test('without data-mode the site is opt-in: nothing is sent before a grant', async () => {
    const net = stubNetwork()
    const sdk = await fromScript({ 'data-site': 'k', 'data-endpoint': 'https://in.example' })
    await sdk.flush()
    expect(net.requests()).toBe(0)
    expect(sdk.consent.get()).toMatchObject({ mode: 'opt-in', analytics: false })
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
