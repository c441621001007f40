import ipaddr from 'ipaddr.js'
import proxyAddr from 'proxy-addr'

export type TrustFn = (addr: string, index: number) => boolean

/** Compiles the trusted-proxy list (CIDRs or proxy-addr's names: loopback, linklocal, uniquelocal). */
export function compileTrust(trustedProxies: readonly string[]): TrustFn {
  return proxyAddr.compile([...trustedProxies])
}

/**
 * The client address: the socket peer, or the nearest untrusted hop of X-Forwarded-For when the
 * peer is a trusted proxy. XFF from anyone else is ignored, so clients cannot spoof it. Each hop is
 * read as proxies write it (a port, brackets, quotes: `hopAddress`), so a trusted hop with a port is
 * still recognised as trusted and the address found carries no port.
 */
export function clientIp(socketAddress: string, forwardedFor: string | undefined, trust: TrustFn): string {
  // Without a trusted peer the header is never read: the cheap common case, and nothing to parse.
  if (!forwardedFor || !trust(socketAddress, 0)) return socketAddress
  const hops = forwardedFor.split(',').map(hopAddress).filter(Boolean).join(',')
  const headers: Record<string, string> = hops ? { 'x-forwarded-for': hops } : {}
  // proxy-addr only reads these two fields of an IncomingMessage.
  const req = { headers, socket: { remoteAddress: socketAddress }, connection: { remoteAddress: socketAddress } }
  return proxyAddr(req as unknown as Parameters<typeof proxyAddr>[0], trust)
}

/** `[v6]`, `[v6]:port`, with the closing bracket and what follows captured. */
const BRACKETED = /^\[([^\]]*)\](?::(\d{1,5}))?$/
/** A dotted quad (or an IPv6 ending in one: `::ffff:a.b.c.d`) followed by `:port`. */
const WITH_PORT = /^([^[\]]*\d+\.\d+\.\d+\.\d+):(\d{1,5})$/

/**
 * One X-Forwarded-For element as an address: proxies that write ports (`203.0.113.7:4711`,
 * `[2001:db8::1]:443`), RFC 7239 style brackets (`[2001:db8::1]`) and quotes are read down to the
 * address, which is kept as written otherwise. Anything that does not reduce to an address is
 * returned trimmed, as before: proxy-addr never trusts it and the address limit keys it as invalid.
 */
export function hopAddress(element: string): string {
  let s = element.trim()
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim()
  const bracketed = BRACKETED.exec(s)
  if (bracketed) {
    const inner = bracketed[1] ?? ''
    return ipaddr.IPv6.isValid(inner) ? inner : s
  }
  const withPort = WITH_PORT.exec(s)
  if (withPort && ipaddr.isValid(withPort[1] ?? '')) return withPort[1] ?? s
  return s
}

/**
 * The bucket key of an address: IPv4 as is, IPv6 by its /64 (one subscriber's network, which
 * hands out addresses freely, so per-address buckets would be trivial to dodge).
 */
export function addressKey(ip: string): string {
  const s = ip.trim()
  if (!ipaddr.isValid(s)) return 'invalid'
  const parsed = ipaddr.process(s)
  if (parsed.kind() === 'ipv4') return parsed.toString()
  const bytes = parsed.toByteArray().slice(0, 8)
  return `${ipaddr.fromByteArray([...bytes, 0, 0, 0, 0, 0, 0, 0, 0]).toString()}/64`
}
