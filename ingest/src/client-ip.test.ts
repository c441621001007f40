import { describe, expect, it } from 'vitest'
import { clientIp, compileTrust } from './client-ip.js'

describe('clientIp', () => {
  it('uses the socket address when no proxy is trusted, ignoring X-Forwarded-For', () => {
    expect(clientIp('203.0.113.5', '1.2.3.4', compileTrust([]))).toBe('203.0.113.5')
  })

  it('takes the nearest untrusted hop behind trusted proxies', () => {
    const trust = compileTrust(['loopback', '10.0.0.0/8'])
    expect(clientIp('127.0.0.1', '198.51.100.1, 10.0.0.2', trust)).toBe('198.51.100.1')
    // A client-supplied entry left of an untrusted hop is not believed.
    expect(clientIp('127.0.0.1', '6.6.6.6, 198.51.100.1', trust)).toBe('198.51.100.1')
  })

  it('falls back to the socket when the header is absent', () => {
    expect(clientIp('::1', undefined, compileTrust(['loopback']))).toBe('::1')
  })
})
