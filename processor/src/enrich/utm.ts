import { UTM_MAX_LENGTH } from '@atspark/schemas'

/** The five campaign tags of a page URL, each '' when absent or dropped. */
export interface UtmTags {
  utm_source: string
  utm_medium: string
  utm_campaign: string
  utm_term: string
  utm_content: string
}

/** What the channel grouping needs besides the tags: whether an ad network's auto-tagging click id was present. */
export interface PageCampaign extends UtmTags {
  /** gclid, gbraid, wbraid (Google Ads) or msclkid (Microsoft Ads) in the query. */
  adClickId: boolean
}

export const NO_CAMPAIGN: Readonly<PageCampaign> = Object.freeze({
  utm_source: '',
  utm_medium: '',
  utm_campaign: '',
  utm_term: '',
  utm_content: '',
  adClickId: false,
})

/** A query worth parsing names a tag or a click id; most page URLs have neither and cost one regex test. */
const INTERESTING_QUERY = /utm_|clid|clkid|braid/i
const AD_CLICK_IDS = new Set(['gclid', 'gbraid', 'wbraid', 'msclkid'])
/** One bit per tag, so a repeated tag keeps its first value. */
const TAG_BITS = new Map<string, number>(['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'].map((t, i) => [t, 1 << i]))

/** Shapes of personal data a tag must never carry (a link built per recipient, a CRM id, a session token). */
const EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]{2,}/
/** A phone number written with separators: 9 or more digits (a YYYY-MM-DD date has 8). */
const PHONE = /\+?\(?\d(?:[\s().\-/]{0,2}\d){8,}/
const UUID = /[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/i
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}/
const HEX_RUN = /[0-9a-f]{16,}/gi
const TOKEN_RUN = /[A-Za-z0-9_-]{20,}/g
const HAS_DIGIT = /\d/
const HAS_HEX_LETTER = /[a-f]/i
const CONTROL = /\p{Cc}/gu
const HAS_CONTROL = /\p{Cc}/u
/** The shortest personal value we look for: `a@b.cc`, six digits. */
const MIN_PERSONAL = 6

/** 0 lower, 1 upper, 2 digit, -1 other: switches between classes mark random tokens. */
function charClass(code: number): number {
  if (code >= 97 && code <= 122) return 0
  if (code >= 65 && code <= 90) return 1
  if (code >= 48 && code <= 57) return 2
  return -1
}

/**
 * A random token (base64/base64url, ids): in random text the class of the next character changes
 * about every second character, in words and campaign names (`Spring_Sale_Q4_2026`) rarely.
 */
function looksRandom(run: string): boolean {
  let switches = 0
  let digits = 0
  let prev = -1
  for (let i = 0; i < run.length; i++) {
    const c = charClass(run.charCodeAt(i))
    if (c === -1) continue
    if (c === 2) digits++
    if (prev !== -1 && c !== prev) switches++
    prev = c
  }
  return digits > 0 && switches >= run.length * 0.4
}

/** Some match of the global `re` in `value` passes `test` (exec loop: no iterator per call). */
function someRun(re: RegExp, value: string, test: (run: string) => boolean): boolean {
  re.lastIndex = 0
  for (let m = re.exec(value); m !== null; m = re.exec(value)) if (test(m[0])) return true
  return false
}

const hexToken = (run: string) => HAS_DIGIT.test(run) && HAS_HEX_LETTER.test(run)

/** True for a value that looks like personal data or a secret: an e-mail address, a long number, a UUID, a JWT or a random token. */
export function looksPersonal(value: string): boolean {
  if (value.length < MIN_PERSONAL) return false
  // One pass decides which patterns can match at all; a typical campaign name needs no regex but the e-mail one.
  let digits = 0
  let run = 0
  let at = false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      digits++
      if (++run >= 6) return true
    } else {
      run = 0
      if (c === 64) at = true
    }
  }
  if (at && EMAIL.test(value)) return true
  if (digits >= 9 && PHONE.test(value)) return true
  // UUIDs, hex and random tokens all hold a digit (a v4 UUID's version digit at least).
  if (digits === 0 || value.length < 16) return false
  if (value.length >= 32 && UUID.test(value)) return true
  if (value.includes('eyJ') && JWT.test(value)) return true
  return someRun(HEX_RUN, value, hexToken) || someRun(TOKEN_RUN, value, looksRandom)
}

/** A tag longer than this is junk (or an attack on the checks below, some of which are quadratic): dropped whole. */
const MAX_RAW_TAG = 4 * UTM_MAX_LENGTH

/** Trimmed, control characters made spaces, cut at UTM_MAX_LENGTH (never inside a surrogate pair); '' when it looks personal. */
export function cleanTag(raw: string): string {
  if (raw.length > MAX_RAW_TAG) return ''
  let v = HAS_CONTROL.test(raw) ? raw.replace(CONTROL, ' ').trim() : raw.trim()
  let cut = false
  if (v.length > UTM_MAX_LENGTH) {
    cut = true
    v = v.slice(0, UTM_MAX_LENGTH)
    const last = v.charCodeAt(v.length - 1)
    if (last >= 0xd800 && last <= 0xdbff) v = v.slice(0, -1)
    v = v.trimEnd()
  }
  // The whole value is checked (a personal part past the cut still drops it), and a cut one again: what is stored is what was checked.
  return looksPersonal(raw) || (cut && looksPersonal(v)) ? '' : v
}

/** A form-encoded query value decoded as URLSearchParams does (`+` is a space, a broken escape is kept or made U+FFFD). */
function decodeValue(raw: string): string {
  const v = raw.includes('+') ? raw.replaceAll('+', ' ') : raw
  if (!v.includes('%')) return v
  try {
    return decodeURIComponent(v)
  } catch {
    // Rare: let the standard parser apply its lenient rules.
    return new URLSearchParams(`v=${raw}`).get('v') ?? ''
  }
}

/** Names we read are 5 (gclid) to 12 (utm_campaign) characters long; anything else is skipped undecoded. */
const MIN_NAME = 5
const MAX_NAME = 12

/**
 * Campaign tags of a page URL's query (the part before `#`), decoded as a form query (`+` is a space).
 * The first occurrence of a tag counts; parameter names match case-insensitively, as tagging tools vary.
 * Only the five tags and the click ids are decoded: other parameters are never looked at.
 */
export function pageCampaign(u: string | undefined): Readonly<PageCampaign> {
  if (!u) return NO_CAMPAIGN
  const q = u.indexOf('?')
  if (q === -1) return NO_CAMPAIGN
  const hash = u.indexOf('#', q)
  const query = hash === -1 ? u.slice(q + 1) : u.slice(q + 1, hash)
  if (!INTERESTING_QUERY.test(query)) return NO_CAMPAIGN
  const out: PageCampaign = { ...NO_CAMPAIGN }
  let seen = 0
  for (let start = 0; start <= query.length; ) {
    let end = query.indexOf('&', start)
    if (end === -1) end = query.length
    const eq = query.indexOf('=', start)
    const nameEnd = eq === -1 || eq > end ? end : eq
    if (nameEnd - start >= MIN_NAME && nameEnd - start <= MAX_NAME) {
      const name = query.slice(start, nameEnd).toLowerCase()
      if (AD_CLICK_IDS.has(name)) out.adClickId = true
      else {
        const bit = TAG_BITS.get(name)
        if (bit !== undefined && (seen & bit) === 0) {
          seen |= bit
          out[name as keyof UtmTags] = cleanTag(nameEnd === end ? '' : decodeValue(query.slice(nameEnd + 1, end)))
        }
      }
    }
    start = end + 1
  }
  return out
}
