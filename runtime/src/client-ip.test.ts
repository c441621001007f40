import { describe, expect, it } from 'vitest'
import { clientIp, compileTrust, hopAddress } from './client-ip.js'

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

describe('X-Forwarded-For as proxies write it', () => {
  const trust = compileTrust(['loopback', '10.0.0.0/8'])

  it.each([
    ['IPv4 with a port', '203.0.113.77:4711', '203.0.113.77'],
    ['bracketed IPv6 with a port', '[2001:db8::1]:443', '2001:db8::1'],
    ['bracketed IPv6 without a port (RFC 7239 style)', '[2001:db8::1]', '2001:db8::1'],
    ['quoted, bracketed, with a port', '"[2001:db8::1]:443"', '2001:db8::1'],
    ['IPv4-mapped IPv6 with a port', '[::ffff:203.0.113.77]:80', '::ffff:203.0.113.77'],
    ['IPv4-mapped IPv6 written with a bare port', '::ffff:203.0.113.77:80', '::ffff:203.0.113.77'],
    ['plain IPv6, which has no port to drop', '2001:db8::1', '2001:db8::1'],
    ['surrounding spaces', '  198.51.100.1  ', '198.51.100.1'],
  ])('drops the port and brackets: %s', (_name, xff, client) => {
    expect(hopAddress(xff)).toBe(client)
    expect(clientIp('127.0.0.1', xff, trust)).toBe(client)
  })

  it('recognises a trusted hop that carries a port, and walks on past it', () => {
    expect(clientIp('127.0.0.1', '198.51.100.1:5000, 10.0.0.2:8443', trust)).toBe('198.51.100.1')
    expect(clientIp('127.0.0.1', '6.6.6.6, [2001:db8::9]:1234, [::ffff:10.0.0.3]:80', trust)).toBe('2001:db8::9')
  })

  it('still ignores the header from an untrusted peer, ports or not', () => {
    expect(clientIp('203.0.113.5', '198.51.100.1:4711', trust)).toBe('203.0.113.5')
  })

  it.each(['unknown', '_hidden', '[not-an-address]:80', '999.1.1.1:80', '1.2.3.4.5:6', ''])('leaves what is no address as it is: %j', (element) => {
    expect(hopAddress(element)).toBe(element.trim())
  })
})
