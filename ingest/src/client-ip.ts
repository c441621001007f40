import proxyAddr from 'proxy-addr'

export type TrustFn = (addr: string, index: number) => boolean

/** Compiles the trusted-proxy list (CIDRs or proxy-addr's names: loopback, linklocal, uniquelocal). */
export function compileTrust(trustedProxies: readonly string[]): TrustFn {
  return proxyAddr.compile([...trustedProxies])
}

/**
 * The client address: the socket peer, or the nearest untrusted hop of X-Forwarded-For when the
 * peer is a trusted proxy. XFF from anyone else is ignored, so clients cannot spoof it.
 */
export function clientIp(socketAddress: string, forwardedFor: string | undefined, trust: TrustFn): string {
  const headers: Record<string, string> = forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}
  // proxy-addr only reads these two fields of an IncomingMessage.
  const req = { headers, socket: { remoteAddress: socketAddress }, connection: { remoteAddress: socketAddress } }
  return proxyAddr(req as unknown as Parameters<typeof proxyAddr>[0], trust)
}
