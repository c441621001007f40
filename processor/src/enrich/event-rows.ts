import { type IpKeyring, type IpSealContext, IpSealError, openIp, type Pseudonymize, truncateIp } from '@atspark/runtime'
import type { Envelope, EventRow, WireProps } from '@atspark/schemas'
import { PoisonMessageError, ProcessorError } from '../errors.js'
import { channelOf } from './channel.js'
import { correctTimestamp, warehouseTime } from './clock.js'
import type { Geo } from './geo.js'
import { referrerHost, urlParts } from './url.js'
import { pageCampaign } from './utm.js'
import { parseUserAgent } from './user-agent.js'

/** Opens the envelope's sealed IP; throws IpSealError when it cannot (unknown key id, failed authentication). */
export type OpenIp = (sealed: string, context: IpSealContext) => string

export interface EventRowDeps {
  geo: Geo
  pseudonymize: Pseudonymize
  openIp: OpenIp
}

/** Opens with whatever keyring is current, so a SIGHUP reload applies to the next message. */
export function ipOpener(keyring: () => IpKeyring): OpenIp {
  return (sealed, context) => openIp(sealed, keyring(), context)
}

/** The warehouse stores props as Map(String, String); null becomes '' so the key still records that it was sent. */
function stringifyProps(props: WireProps | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (!props) return out
  // for…in instead of Object.entries (no entry array per prop): a parsed JSON object has no inherited enumerable keys.
  for (const key in props) {
    const value = props[key]
    out[key] = value === null ? '' : typeof value === 'string' ? value : String(value)
  }
  return out
}

/**
 * Country and network of the sealed client address. The full address exists only in this
 * function's locals: errors carry no cause that could hold it.
 */
function locate(envelope: Envelope, deps: EventRowDeps): { country: string; ipPrefix: string } {
  let ip: string
  try {
    ip = deps.openIp(envelope.ip_sealed, { orgId: envelope.org_id, siteId: envelope.site_id })
  } catch (err) {
    if (err instanceof IpSealError) throw new PoisonMessageError(`cannot open sealed IP: ${err.message}`)
    throw err
  }
  try {
    // Geo must see the full address, so it runs before truncation.
    return { country: deps.geo.country(ip), ipPrefix: truncateIp(ip)?.prefix ?? '' }
  } catch {
    throw new ProcessorError('geo_failed', 'geo lookup or truncation of a client address failed')
  }
}

/**
 * One warehouse row per event of an accepted envelope. The sealed IP is opened for geo and
 * truncation only, and the raw user id is only HMAC input; neither reaches a row. Throws
 * PoisonMessageError when the IP cannot be opened.
 */
export function toEventRows(envelope: Envelope, deps: EventRowDeps): EventRow[] {
  const { country, ipPrefix } = locate(envelope, deps)
  const ua = parseUserAgent(envelope.ua)
  const receivedAt = warehouseTime(envelope.received_at)

  return envelope.events.map((e) => {
    const page = urlParts(e.u)
    const referrer = referrerHost(e.r)
    // The query is read for campaign tags only (values that look personal are dropped); it is never stored.
    const campaign = pageCampaign(e.u)
    return {
      event_id: e.id,
      org_id: envelope.org_id,
      site_id: envelope.site_id,
      type: e.t,
      name: e.n ?? '',
      ts: warehouseTime(correctTimestamp(e.ts, envelope.sent_at, envelope.received_at)),
      received_at: receivedAt,
      anon_id: e.a ?? '',
      session_id: e.s ?? '',
      user_pid: e.uid ? deps.pseudonymize(envelope.org_id, e.uid) : '',
      url_path: page.path,
      url_host: page.host,
      referrer_host: referrer,
      props: stringifyProps(e.p),
      browser: ua.browser,
      browser_version: ua.browser_version,
      os: ua.os,
      os_version: ua.os_version,
      device_type: ua.device_type,
      is_bot: ua.is_bot,
      screen_w: e.sw ?? 0,
      screen_h: e.sh ?? 0,
      locale: e.l ?? '',
      tz: e.tz ?? '',
      country,
      ip_prefix: ipPrefix,
      utm_source: campaign.utm_source,
      utm_medium: campaign.utm_medium,
      utm_campaign: campaign.utm_campaign,
      utm_term: campaign.utm_term,
      utm_content: campaign.utm_content,
      channel: channelOf(referrer, page.host, campaign),
      // The visit stitcher (visit-attribution.ts) sets it, with the visit's channel and utm_*, just before the insert.
      entry_page: '',
    }
  })
}
