import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import ipaddr from 'ipaddr.js'
import { addressKey } from './client-ip.js'

/** Why a connection was closed as soon as it was accepted, for `atspark_ingest_connections_refused_total{reason}`. */
export const ConnectionRefusal = { total: 'total', perAddress: 'per_address' } as const
export type ConnectionRefusal = (typeof ConnectionRefusal)[keyof typeof ConnectionRefusal]

export interface ConnectionLimits {
  /** Open connections on this listener; past it Node closes new ones on accept. Unset: no bound. */
  maxConnections?: number
  /** Open connections one peer address (IPv6 by /64) may hold; past it new ones are closed on accept. Unset: no bound. */
  maxPerAddress?: number
  /** Peers the per-address bound skips: proxies and other addresses that stand for many clients. */
  exempt?: (address: string) => boolean
  onRefused?: (reason: ConnectionRefusal) => void
  /** Told of the number of open connections whenever it changes (a gauge). */
  onOpenChange?: (open: number) => void
}

/**
 * Bounds the connections a listener holds, in total and per peer address. Each one is a file descriptor
 * (and a parser, and buffers): unbounded, a few thousand idle or half-sent connections exhaust the
 * descriptors the warehouse and the Kafka client need, and a few addresses can take them all. A refused
 * connection is closed before anything is read, so no answer can be sent: its sender learns by the close.
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  const { maxConnections, maxPerAddress, exempt, onRefused, onOpenChange } = limits
  if (maxConnections !== undefined) {
    server.maxConnections = maxConnections
    // Node closes connections past maxConnections before 'connection' is emitted, and tells us here.
    server.on('drop', () => onRefused?.(ConnectionRefusal.total))
  }
  const byAddress = new Map<string, number>()
  let open = 0
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? ''
    const key = maxPerAddress === undefined || exempt?.(peer) ? undefined : addressKey(peer)
    const held = key === undefined ? 0 : (byAddress.get(key) ?? 0)
    if (key !== undefined && maxPerAddress !== undefined && held >= maxPerAddress) {
      socket.destroy()
      onRefused?.(ConnectionRefusal.perAddress)
      return
    }
    if (key !== undefined) byAddress.set(key, held + 1)
    onOpenChange?.(++open)
    socket.once('close', () => {
      onOpenChange?.(--open)
      if (key === undefined) return
      const left = (byAddress.get(key) ?? 1) - 1
      if (left > 0) byAddress.set(key, left)
      else byAddress.delete(key)
    })
  })
}

/** A per-address exemption from proxy-addr style matchers (TRUSTED_PROXIES, RATE_LIMIT_ADDRESS_EXEMPT); anything unparsable is not exempt. */
export function exemptAddresses(...matchers: ((addr: string, index: number) => boolean)[]): (address: string) => boolean {
  return (address) => ipaddr.isValid(address) && matchers.some((m) => m(address, 0))
}

/**
 * This process's open-file limit (RLIMIT_NOFILE, soft: Node raises it to the hard limit at start), from
 * /proc on Linux, else from a shell, which inherits it; undefined when unlimited or unknown.
 */
export function openFileLimit(procLimits = '/proc/self/limits'): number | undefined {
  let text: string | undefined
  try {
    text = readFileSync(procLimits, 'utf8')
  } catch {
    text = undefined
  }
  const fromProc = text === undefined ? undefined : /^Max open files\s+(\S+)/m.exec(text)?.[1]
  const value = fromProc ?? spawnSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout?.trim()
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}

export interface ConnectionBound {
  maxConnections: number | undefined
  /** Where the bound came from, for the start-up log. */
  source: 'configured' | 'derived' | 'unknown_limit'
  fileLimit: number | undefined
  reserve: number
}

/**
 * The total connection bound: INGEST_MAX_CONNECTIONS when set, else the open-file limit minus the
 * descriptors reserved for everything else (warehouse, Kafka, logs, the other listeners), the
 * reserve being at most half the limit so a small limit still leaves connections.
 */
export function connectionBound(configured: number | undefined, fileLimit: number | undefined, reserve: number): ConnectionBound {
  if (configured !== undefined) return { maxConnections: configured, source: 'configured', fileLimit, reserve }
  if (fileLimit === undefined) return { maxConnections: undefined, source: 'unknown_limit', fileLimit, reserve }
  const kept = Math.min(reserve, Math.floor(fileLimit / 2))
  return { maxConnections: Math.max(1, fileLimit - kept), source: 'derived', fileLimit, reserve: kept }
}
