import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import ipaddr from 'ipaddr.js'
import { type CountryResponse, open } from 'maxmind'
import { normalizeIp } from '@atspark/runtime'

/** Country lookup by full client address; callers look up before truncating. */
export interface Geo {
  /** ISO 3166-1 alpha-2 code, or '' when unknown, private or invalid. */
  country(ip: string): string
}

/** ip-location-db records are `{ country_code }`; MaxMind-format databases use `country.iso_code`. */
type GeoRecord = CountryResponse & { readonly country_code?: string }

/** Ranges that never locate a person; skipping them avoids trusting whatever a database says about them. */
const NON_PUBLIC = new Set([
  'unspecified',
  'broadcast',
  'multicast',
  'linkLocal',
  'loopback',
  'private',
  'carrierGradeNat',
  'reserved',
  'benchmarking',
  'uniqueLocal',
])

const COUNTRY_CODE = /^[A-Z]{2}$/

/** The CC0 country database shipped on npm, resolved from this package's dependencies. */
export function defaultGeoDatabasePath(): string {
  const pkg = createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json')
  return join(dirname(pkg), 'geo-whois-asn-country.mmdb')
}

export async function openGeo(path: string = defaultGeoDatabasePath()): Promise<Geo> {
  const reader = await open<GeoRecord>(path)
  return {
    country(ip: string): string {
      const addr = normalizeIp(ip)
      if (!addr || NON_PUBLIC.has(ipaddr.parse(addr).range())) return ''
      const record = reader.get(addr)
      const code = (record?.country_code ?? record?.country?.iso_code ?? '').toUpperCase()
      // The warehouse column only admits two capital letters; anything else counts as unknown.
      return COUNTRY_CODE.test(code) ? code : ''
    },
  }
}
