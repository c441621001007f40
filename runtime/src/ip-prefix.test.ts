import ipaddr from 'ipaddr.js'
import { describe, expect, it } from 'vitest'
import { normalizeIp, truncateIp } from './ip-prefix.js'

/** The host bits of a CIDR prefix, which truncation must have zeroed. */
function hostBitsAreZero(cidr: string): boolean {
  const [addr, bits] = ipaddr.parseCIDR(cidr)
  const bytes = addr.toByteArray()
  return bytes.every((b, i) => (b & (0xff >> Math.min(8, Math.max(0, bits - i * 8)))) === 0)
}

describe('truncateIp', () => {
  it('keeps the /24 of an IPv4 address', () => {
    expect(truncateIp('203.0.113.77')).toEqual({ prefix: '203.0.113.0/24', family: 4 })
    expect(truncateIp('8.8.8.8')).toEqual({ prefix: '8.8.8.0/24', family: 4 })
  })

  it('keeps the /48 of an IPv6 address', () => {
    expect(truncateIp('2001:db8:1234:5678::1')).toEqual({ prefix: '2001:db8:1234::/48', family: 6 })
    expect(truncateIp('2001:4860:4860::8888')).toEqual({ prefix: '2001:4860:4860::/48', family: 6 })
    expect(truncateIp('2001:0DB8:ABCD:0012:0000:0000:0000:0001')).toEqual({ prefix: '2001:db8:abcd::/48', family: 6 })
  })

  it('treats IPv4-mapped IPv6 as IPv4', () => {
    expect(truncateIp('::ffff:203.0.113.77')).toEqual({ prefix: '203.0.113.0/24', family: 4 })
    expect(truncateIp('::ffff:cb00:714d')).toEqual({ prefix: '203.0.113.0/24', family: 4 })
  })

  it('drops an IPv6 zone id', () => {
    expect(truncateIp('fe80::1:2:3:4%eth0')).toEqual({ prefix: 'fe80::/48', family: 6 })
  })

  it('keeps only the embedded /24 of a 6to4 address', () => {
    // 2002:cb00:714d::/48 would be exactly 203.0.113.77.
    expect(truncateIp('2002:cb00:714d::1')).toEqual({ prefix: '2002:cb00:7100::/40', family: 6 })
  })

  it('returns null for anything that is not an address', () => {
    for (const bad of ['', 'unknown', '203.0.113', '127.1', '0xcb.0.113.77', '256.1.1.1', '203.0.113.77/24', '2001:db8::g', '1.2.3.4, 5.6.7.8']) {
      expect(truncateIp(bad), bad).toBeNull()
    }
  })

  it('zeroes every host bit', () => {
    for (const ip of ['203.0.113.255', '10.255.255.255', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '::ffff:1.2.3.255', '2002:ffff:ffff:ffff::1']) {
      const p = truncateIp(ip)
      expect(p, ip).not.toBeNull()
      expect(hostBitsAreZero(p!.prefix), p!.prefix).toBe(true)
    }
  })
})

describe('normalizeIp', () => {
  it('returns the canonical address, IPv4-mapped as IPv4', () => {
    expect(normalizeIp('::ffff:8.8.8.8')).toBe('8.8.8.8')
    expect(normalizeIp(' 8.8.8.8 ')).toBe('8.8.8.8')
    expect(normalizeIp('2001:4860:4860:0:0:0:0:8888')).toBe('2001:4860:4860::8888')
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1')
  })

  it('returns null when invalid', () => {
    expect(normalizeIp('nope')).toBeNull()
    expect(normalizeIp('')).toBeNull()
  })
})
