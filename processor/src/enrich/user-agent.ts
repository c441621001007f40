import { type DeviceType, LIMITS } from '@atspark/schemas'
import { isbot } from 'isbot'
import { LRUCache } from 'lru-cache'
import UAParser from 'ua-parser-js'

export interface UserAgentInfo {
  browser: string
  /** Major version only: full versions add fingerprinting entropy and no analytic value. */
  browser_version: string
  os: string
  os_version: string
  device_type: DeviceType
  is_bot: boolean
}

/** ua-parser's device.type values that map one-to-one onto DeviceType. */
const DEVICE_TYPES: ReadonlyMap<string, DeviceType> = new Map<string, DeviceType>([
  ['mobile', 'mobile'],
  ['tablet', 'tablet'],
  ['console', 'console'],
  ['smarttv', 'smarttv'],
  ['wearable', 'wearable'],
  ['embedded', 'embedded'],
])

/** Parsing runs dozens of regexes; real traffic repeats a few thousand UAs, so a bounded cache pays. */
const cache = new LRUCache<string, Readonly<UserAgentInfo>>({ max: 10_000 })

function parse(ua: string): Readonly<UserAgentInfo> {
  const { browser, os, device } = new UAParser(ua).getResult()
  const isBot = isbot(ua)
  const mapped = device.type === undefined ? undefined : DEVICE_TYPES.get(device.type)
  let deviceType: DeviceType
  if (isBot) deviceType = 'bot'
  else if (mapped) deviceType = mapped
  // ua-parser leaves device.type unset for desktops, so a recognised browser without one is a desktop.
  else if (browser.name) deviceType = 'desktop'
  else deviceType = 'unknown'
  return Object.freeze({
    browser: browser.name ?? '',
    browser_version: browser.version?.split('.')[0] ?? '',
    os: os.name ?? '',
    os_version: os.version ?? '',
    device_type: deviceType,
    is_bot: isBot,
  })
}

/**
 * What the parser sees: at most 512 characters, printable ASCII only (real user agents are; the
 * parser's patterns are), whitespace runs collapsed. Control characters and long whitespace runs
 * are what make its regexes backtrack (measured: 100+ ms for one 512-character UA before this).
 */
export function normalizeUserAgent(ua: string): string {
  return ua
    .slice(0, LIMITS.userAgentLength)
    .replace(/[^\x21-\x7e]+/g, ' ')
    .trim()
}

/** The parse without the cache (timing tests); production code calls parseUserAgent. */
export function parseUserAgentUncached(ua: string): Readonly<UserAgentInfo> {
  return parse(normalizeUserAgent(ua))
}

/** Browser, OS, device class and bot flag of a User-Agent; results are cached and frozen, so never mutate them. */
export function parseUserAgent(ua: string): Readonly<UserAgentInfo> {
  const key = normalizeUserAgent(ua)
  let info = cache.get(key)
  if (!info) {
    info = parse(key)
    cache.set(key, info)
  }
  return info
}
