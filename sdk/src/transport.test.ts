import { describe, expect, test, vi } from 'vitest'
import { BATCH_URL, stubNetwork } from './test-support.js'
import { beacon, post, RETRY, retryAfterMs } from './transport.js'

describe('post', () => {
  test('POSTs the body with keepalive, without credentials and without a preflighted content type; resolves false on 2xx', async () => {
    const net = stubNetwork()
    expect(await post(BATCH_URL, () => '{"x":1}')).toBe(false)
    expect(net.fetch).toHaveBeenCalledOnce()
    const [url, init] = net.fetch.mock.calls[0]!
    expect(url).toBe(BATCH_URL)
    expect(init).toEqual({ method: 'POST', body: '{"x":1}', keepalive: true, credentials: 'omit' })
  })

  test('cancels every answer body: unread, each held its share of the 64 KiB keepalive budget until GC (~10 batches in, fetch failed)', async () => {
    const answers = [new Response('{"error":"busy"}', { status: 503 }), new Response('{"accepted":1}', { status: 202 })]
    const cancels = answers.map((res) => vi.spyOn(res.body!, 'cancel'))
    vi.useFakeTimers()
    vi.stubGlobal('fetch', vi.fn(async () => answers.shift()))
    const done = post(BATCH_URL, () => 'body')
    await vi.runAllTimersAsync()
    expect(await done).toBe(false)
    for (const cancel of cancels) expect(cancel).toHaveBeenCalledOnce()
  })

  test('keepalive while the bodies in flight fit 64 KiB (over it the browser fails the fetch); the rest go without', async () => {
    const answers: ((res: Response) => void)[] = []
    const fetchMock = vi.fn((_url: string, _init: RequestInit) => new Promise<Response>((answer) => answers.push(answer)))
    vi.stubGlobal('fetch', fetchMock)
    const big = 'x'.repeat(30_000)
    const sends = [post(BATCH_URL, () => big), post(BATCH_URL, () => big), post(BATCH_URL, () => '{"receipt":1}'), post(BATCH_URL, () => big)]
    const keepalive = () => fetchMock.mock.calls.map(([, init]) => init.keepalive)
    // 30 + 30 kB fit, and a receipt beside them; a third batch does not.
    expect(keepalive()).toEqual([true, true, true, false])
    for (const answer of answers.splice(0)) answer(new Response(null, { status: 202 }))
    await Promise.all(sends)
    // Answered, they free the budget.
    void post(BATCH_URL, () => big)
    void post(BATCH_URL, () => big)
    expect(keepalive().slice(4)).toEqual([true, true])
    for (const answer of answers.splice(0)) answer(new Response(null, { status: 202 }))
  })

  test.each([503, 500, 429, 0])('retries after %i (0 = network error) with exponential backoff, rebuilding the body', async (status) => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0.99)
    const net = stubNetwork([status, status])
    const build = vi.fn(() => 'body')
    const done = post(BATCH_URL, build)
    await vi.advanceTimersByTimeAsync(0)
    expect(net.fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(0.99 * RETRY.baseMs)
    expect(net.fetch).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(0.99 * RETRY.baseMs * 2 - 1)
    expect(net.fetch).toHaveBeenCalledTimes(2)
    await vi.advanceTimersByTimeAsync(1)
    expect(await done).toBe(false)
    expect(net.fetch).toHaveBeenCalledTimes(3)
    expect(build).toHaveBeenCalledTimes(3)
  })

  test.each([400, 401, 403, 404, 413, 415, 422])('never retries %i', async (status) => {
    vi.useFakeTimers()
    const net = stubNetwork([status, status])
    expect(await post(BATCH_URL, () => 'body')).toBe(false)
    await vi.advanceTimersByTimeAsync(120_000)
    expect(net.fetch).toHaveBeenCalledOnce()
  })

  test('waits at least Retry-After, even when the backoff is shorter', async () => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0)
    const net = stubNetwork([503], { 'retry-after': '7' })
    const done = post(BATCH_URL, () => 'body')
    await vi.advanceTimersByTimeAsync(6999)
    expect(net.fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(1)
    await done
    expect(net.fetch).toHaveBeenCalledTimes(2)
  })

  test('full jitter: each delay is random × base × 2^attempt', async () => {
    vi.useFakeTimers()
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const delays: number[] = []
    const realSetTimeout = setTimeout
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms: number) => {
      delays.push(ms)
      return realSetTimeout(fn, ms)
    }) as typeof setTimeout)
    stubNetwork(Array(10).fill(503))
    const done = post(BATCH_URL, () => 'body')
    await vi.runAllTimersAsync()
    expect(await done).toBe(true)
    expect(delays).toEqual([500, 1000, 2000, 4000])
  })

  test(`gives up after ${RETRY.attempts} retries and resolves true (the caller may keep the body)`, async () => {
    vi.useFakeTimers()
    const net = stubNetwork(Array(20).fill(0))
    const done = post(BATCH_URL, () => 'body')
    await vi.runAllTimersAsync()
    expect(await done).toBe(true)
    expect(net.fetch).toHaveBeenCalledTimes(RETRY.attempts + 1)
  })

  test('stops when build returns nothing (consent withdrawn between attempts)', async () => {
    vi.useFakeTimers()
    const net = stubNetwork([503, 503])
    let allowed = true
    const done = post(BATCH_URL, () => (allowed ? 'body' : undefined))
    await vi.advanceTimersByTimeAsync(0)
    allowed = false
    await vi.runAllTimersAsync()
    expect(await done).toBe(false)
    expect(net.fetch).toHaveBeenCalledOnce()
  })
})

describe('retryAfterMs', () => {
  test('reads seconds and HTTP dates; no wait when absent, past or unparsable', () => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') })
    expect(retryAfterMs('3')).toBe(3000)
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:10 GMT')).toBe(10_000)
    expect(retryAfterMs('Wed, 31 Dec 2025 00:00:00 GMT')).toBeLessThanOrEqual(0)
    expect(retryAfterMs(null)).toBe(0)
    expect(retryAfterMs('soon')).toBe(0)
  })
})

describe('beacon', () => {
  test('sends the body as a string (text/plain;charset=UTF-8, as fetch does: no preflight), not a Blob', () => {
    const net = stubNetwork()
    const blob = vi.spyOn(globalThis, 'Blob')
    expect(beacon(BATCH_URL, '{"x":1}')).toBe(true)
    expect(net.beacon.mock.calls).toEqual([[BATCH_URL, '{"x":1}']])
    expect(blob).not.toHaveBeenCalled()
  })

  test('reports a falsy value when the browser refuses or lacks sendBeacon', () => {
    const net = stubNetwork()
    net.beacon.mockReturnValue(false)
    expect(beacon(BATCH_URL, 'x')).toBeFalsy()
    Object.defineProperty(navigator, 'sendBeacon', { value: undefined, configurable: true })
    expect(beacon(BATCH_URL, 'x')).toBeFalsy()
  })
})
