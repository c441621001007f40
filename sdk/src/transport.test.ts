import { describe, expect, test, vi } from 'vitest'
import { stubNetwork } from './test-support.js'
import { beacon, post, RETRY, retryAfterMs } from './transport.js'

const URL_ = 'https://ingest.example/v1/batch'

describe('post', () => {
  test('POSTs JSON with keepalive and without credentials', async () => {
    const net = stubNetwork()
    await post(URL_, () => '{"x":1}')
    expect(net.fetch).toHaveBeenCalledOnce()
    const [url, init] = net.fetch.mock.calls[0]!
    expect(url).toBe(URL_)
    expect(init).toMatchObject({ method: 'POST', body: '{"x":1}', keepalive: true, credentials: 'omit', headers: { 'content-type': 'application/json' } })
  })

  test.each([503, 500, 429, 0])('retries after %i (0 = network error) with backoff, rebuilding the body', async (status) => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0.99)
    const net = stubNetwork([status, status])
    const build = vi.fn(() => 'body')
    const done = post(URL_, build)
    await vi.advanceTimersByTimeAsync(0)
    expect(net.fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(RETRY.baseMs)
    expect(net.fetch).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(RETRY.baseMs * 2)
    await done
    expect(net.fetch).toHaveBeenCalledTimes(3)
    expect(build).toHaveBeenCalledTimes(3)
  })

  test.each([400, 401, 403, 404, 413, 422])('never retries %i', async (status) => {
    vi.useFakeTimers()
    const net = stubNetwork([status, status])
    await post(URL_, () => 'body')
    await vi.advanceTimersByTimeAsync(120_000)
    expect(net.fetch).toHaveBeenCalledOnce()
  })

  test('waits at least Retry-After', async () => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const net = stubNetwork([503], { 'retry-after': '7' })
    const done = post(URL_, () => 'body')
    await vi.advanceTimersByTimeAsync(6999)
    expect(net.fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(net.fetch).toHaveBeenCalledTimes(2)
  })

  test('jitters the exponential backoff', async () => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const net = stubNetwork([503, 503, 503])
    const done = post(URL_, () => 'body')
    await vi.advanceTimersByTimeAsync(0.5 * RETRY.baseMs)
    expect(net.fetch).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(0.5 * RETRY.baseMs * 2 - 1)
    expect(net.fetch).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(net.fetch).toHaveBeenCalledTimes(3)
    await vi.runAllTimersAsync()
    await done
  })

  test(`gives up after ${RETRY.attempts} retries`, async () => {
    vi.useFakeTimers()
    const net = stubNetwork(Array(20).fill(503))
    const done = post(URL_, () => 'body')
    await vi.runAllTimersAsync()
    await done
    expect(net.fetch).toHaveBeenCalledTimes(RETRY.attempts + 1)
  })

  test('stops when build returns nothing (consent withdrawn between attempts)', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([503, 503])
    let allowed = true
    const done = post(URL_, () => (allowed ? 'body' : undefined))
    await vi.advanceTimersByTimeAsync(0)
    allowed = false
    await vi.runAllTimersAsync()
    await done
    expect(net.fetch).toHaveBeenCalledOnce()
  })
})

describe('retryAfterMs', () => {
  test('reads seconds and HTTP dates; 0 when absent or unparsable', () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') })
    expect(retryAfterMs('3')).toBe(3000)
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT')).toBe(10_000)
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT')).toBe(0)
    expect(retryAfterMs(null)).toBe(0)
    expect(retryAfterMs('soon')).toBe(0)
  })
})

describe('beacon', () => {
  test('sends the body as a text/plain Blob', async () => {
    const net = stubNetwork()
    expect(beacon(URL_, '{"x":1}')).toBe(true)
    const [url, blob] = net.beacon.mock.calls[0]!
    expect(url).toBe(URL_)
    expect(blob.type).toBe('text/plain')
    expect(await blob.text()).toBe('{"x":1}')
  })

  test('reports false when the browser refuses or lacks sendBeacon', () => {
    const net = stubNetwork()
    net.beacon.mockReturnValue(false)
    expect(beacon(URL_, 'x')).toBe(false)
    Object.defineProperty(navigator, 'sendBeacon', { value: undefined, configurable: true })
    expect(beacon(URL_, 'x')).toBe(false)
  })
})
