import ipaddr from 'ipaddr.js'

export interface IpPrefix {
  /** CIDR notation, e.g. `203.0.113.0/24` or `2001:db8:1234::/48`. */
  prefix: string
  family: 4 | 6
}

/** Prefix lengths we keep: a /24 or /48 is a network, not a household. */
const V4_BITS = 24
const V6_BITS = 48
/** 6to4 (2002::/16) carries a whole IPv4 address in bits 16–47, so a /48 would keep it; /40 keeps only its /24. */
const V6_6TO4_BITS = 40

/**
 * Parses strictly: dotted-quad IPv4 or IPv6 (zone ids allowed), IPv4-mapped IPv6 becomes IPv4.
 * ipaddr.isValid alone also accepts '127.1' and hex octets, which no socket or proxy sends.
 */
function parseIp(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const s = ip.trim()
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s)
  if (!ipaddr.IPv6.isValid(s)) return null
  const v6 = ipaddr.IPv6.parse(s)
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6
}

/** Zeroes every bit after the first `bits` of a big-endian byte array. */
function maskBytes(bytes: number[], bits: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.min(8, Math.max(0, bits - i * 8))
    return b & ((0xff << (8 - keep)) & 0xff)
  })
}

/** Canonical form of an address for lookups (IPv4-mapped → IPv4, zone id dropped); null when invalid. */
export function normalizeIp(ip: string): string | null {
  const addr = parseIp(ip)
  if (!addr) return null
  // A zone id names a local interface, it is never part of a routable address.
  return ipaddr.fromByteArray(addr.toByteArray()).toString()
}

/** The network an address belongs to: IPv4 /24, IPv6 /48 (6to4 /40); null when the address is invalid. */
export function truncateIp(ip: string): IpPrefix | null {
  const addr = parseIp(ip)
  if (!addr) return null
  if (addr.kind() === 'ipv4') {
    const net = ipaddr.fromByteArray(maskBytes(addr.toByteArray(), V4_BITS))
    return { prefix: `${net.toString()}/${V4_BITS}`, family: 4 }
  }
  const bits = addr.range() === '6to4' ? V6_6TO4_BITS : V6_BITS
  const net = ipaddr.fromByteArray(maskBytes(addr.toByteArray(), bits))
  return { prefix: `${net.toString()}/${bits}`, family: 6 }
}
