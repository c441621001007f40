import { createHmac, randomBytes } from 'node:crypto'
import { type IpKeyring, sealIp, pseudonymizer } from '@atspark/runtime'
import { Envelope, EventRow } from '@atspark/schemas'
import { beforeAll, describe, expect, it } from 'vitest'
import { PoisonMessageError } from '../errors.js'
import { type EventRowDeps, ipOpener, toEventRows } from './event-rows.js'
import { type Geo, openGeo } from './geo.js'

const RAW_IP = '81.2.69.142'
const RAW_UID = 'alice@example.com'
const SECRET = 'org-secret-for-tests'
const RECEIVED = Date.UTC(2026, 10, 28, 19, 3, 6, 123)
const SKEW = 2 * 3_600_000
const KEYRING: IpKeyring = { active: 'k1', keys: new Map([['k1', randomBytes(32)]]) }
const openIp = ipOpener(() => KEYRING)

/** An envelope as ingest makes it: `ip` is sealed for the envelope's org and site. */
function envelope(over: Partial<Envelope> = {}, ip = RAW_IP): Envelope {
  const sentAt = RECEIVED - SKEW
  const tenant = { org_id: over.org_id ?? 'acme', site_id: over.site_id ?? 'app' }
  return Envelope.parse({
    v: 1,
    kind: 'events',
    ...tenant,
    received_at: RECEIVED,
    sent_at: sentAt,
    ip_sealed: sealIp(ip, KEYRING, { orgId: tenant.org_id, siteId: tenant.site_id }),
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.127 Safari/537.36',
    events: [
      {
        id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a01',
        t: 'pageview',
        ts: sentAt - 1_000,
        a: 'anon_1',
        s: 'sess_1',
        uid: RAW_UID,
        u: 'https://App.atspark.io/dashboards/7?email=alice%40example.com#top',
        r: 'https://www.google.com/search?q=atspark',
        p: { plan: 'pro', seats: 12, trial: false, coupon: null },
        sw: 1920,
        sh: 1080,
        l: 'en-GB',
        tz: 'Europe/London',
      },
      { id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a02', t: 'feature', n: 'export-csv', ts: sentAt - 500 },
    ],
    ...over,
  })
}

describe('toEventRows', () => {
  let geo: Geo
  const pseudonymize = pseudonymizer(() => SECRET)
  let deps: EventRowDeps
  beforeAll(async () => {
    geo = await openGeo()
    deps = { geo, pseudonymize, openIp }
  })

  it('produces one valid row per event', () => {
    const rows = toEventRows(envelope(), deps)
    expect(rows).toHaveLength(2)
    for (const row of rows) expect(EventRow.parse(row)).toEqual(row)
  })

  it('enriches from the envelope and maps every field', () => {
    const [full, bare] = toEventRows(envelope(), deps)
    expect(full).toEqual({
      event_id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a01',
      org_id: 'acme',
      site_id: 'app',
      type: 'pageview',
      name: '',
      ts: '2026-11-28 19:03:05.123',
      received_at: '2026-11-28 19:03:06.123',
      anon_id: 'anon_1',
      session_id: 'sess_1',
      user_pid: createHmac('sha256', SECRET).update(RAW_UID).digest('hex'),
      url_path: '/dashboards/7',
      url_host: 'app.atspark.io',
      referrer_host: 'www.google.com',
      props: { plan: 'pro', seats: '12', trial: 'false', coupon: '' },
      browser: 'Chrome',
      browser_version: '126',
      os: 'Windows',
      os_version: '10',
      device_type: 'desktop',
      is_bot: false,
      screen_w: 1920,
      screen_h: 1080,
      locale: 'en-GB',
      tz: 'Europe/London',
      country: 'GB',
      ip_prefix: '81.2.69.0/24',
      utm_source: '',
      utm_medium: '',
      utm_campaign: '',
      utm_term: '',
      utm_content: '',
      channel: 'Organic Search',
      entry_page: '',
    })
    expect(bare).toMatchObject({
      name: 'export-csv',
      ts: '2026-11-28 19:03:05.623',
      anon_id: '',
      session_id: '',
      user_pid: '',
      url_path: '',
      url_host: '',
      referrer_host: '',
      props: {},
      screen_w: 0,
      screen_h: 0,
      locale: '',
      tz: '',
      country: 'GB',
      utm_source: '',
      channel: 'Direct',
    })
  })

  it('keeps the campaign tags of each event page URL, never a personal one, and groups the channel from tags and referrer', () => {
    const sentAt = RECEIVED - SKEW
    const tagged = 'https://app.atspark.io/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=alice%40example.com&utm_content=header-cta&ref=42'
    const rows = toEventRows(
      envelope({
        events: [
          { id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a11', t: 'pageview', ts: sentAt, u: tagged, r: 'https://mail.google.com/' },
          { id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a12', t: 'pageview', ts: sentAt, u: 'https://app.atspark.io/docs', r: 'https://app.atspark.io/pricing' },
          { id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a13', t: 'pageview', ts: sentAt, u: 'https://app.atspark.io/?utm_source=google&utm_medium=cpc&utm_term=web+analytics' },
        ],
      }),
      deps,
    )
    expect(rows.map(({ utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel }) => ({ utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel }))).toEqual([
      { utm_source: 'newsletter', utm_medium: 'email', utm_campaign: '', utm_term: '', utm_content: 'header-cta', channel: 'Email' },
      { utm_source: '', utm_medium: '', utm_campaign: '', utm_term: '', utm_content: '', channel: 'Internal' },
      { utm_source: 'google', utm_medium: 'cpc', utm_campaign: '', utm_term: 'web analytics', utm_content: '', channel: 'Paid Search' },
    ])
    expect(rows[0]?.url_path).toBe('/pricing')
    expect(JSON.stringify(rows)).not.toMatch(/alice|example\.com|ref=/)
    for (const row of rows) EventRow.parse(row)
  })

  it('never copies the raw IP or raw user id into a row', () => {
    for (const ip of [RAW_IP, '::ffff:81.2.69.142', '2001:4860:4860::8888', '2002:5102:458e::1']) {
      const rows = toEventRows(envelope({}, ip), deps)
      const json = JSON.stringify(rows)
      expect(json).not.toContain(ip)
      expect(json).not.toContain('81.2.69.142')
      expect(json).not.toContain(RAW_UID)
      for (const row of rows) EventRow.parse(row)
    }
  })

  it('uses the full address for geo and an IPv6 /48 for the prefix', () => {
    const [row] = toEventRows(envelope({}, '2001:4860:4860::8888'), deps)
    expect(row).toMatchObject({ country: 'US', ip_prefix: '2001:4860:4860::/48' })
  })

  it('passes the full address to geo, before truncation', () => {
    const seen: string[] = []
    const spy: Geo = {
      country(ip) {
        seen.push(ip)
        return 'FR'
      },
    }
    const [row] = toEventRows(envelope(), { ...deps, geo: spy })
    expect(seen).toEqual([RAW_IP])
    expect(row?.country).toBe('FR')
  })

  it('leaves country and prefix empty for an invalid address', () => {
    const rows = toEventRows(envelope({}, 'unknown'), deps)
    for (const row of rows) expect(EventRow.parse(row)).toMatchObject({ country: '', ip_prefix: '' })
  })

  it('pseudonymizes with the secret of the envelope org', () => {
    const secrets: Record<string, string> = { acme: 'a-secret', other: 'b-secret' }
    const perOrg = pseudonymizer((org) => secrets[org] ?? '')
    const [acme] = toEventRows(envelope(), { ...deps, pseudonymize: perOrg })
    const [other] = toEventRows(envelope({ org_id: 'other' }), { ...deps, pseudonymize: perOrg })
    expect(acme?.user_pid).toBe(createHmac('sha256', 'a-secret').update(RAW_UID).digest('hex'))
    expect(other?.user_pid).toBe(createHmac('sha256', 'b-secret').update(RAW_UID).digest('hex'))
    expect(acme?.user_pid).not.toBe(other?.user_pid)
  })

  it('serves repeated pseudonyms from its cache, and a reloaded secret takes effect at once', () => {
    let secret = Buffer.from('first-secret')
    const pseudonymize = pseudonymizer(() => secret)
    const hmac = (key: Buffer, id: string) => createHmac('sha256', key).update(id).digest('hex')
    const first = secret
    expect(pseudonymize('acme', 'u1')).toBe(hmac(first, 'u1'))
    expect(pseudonymize('acme', 'u1')).toBe(hmac(first, 'u1'))
    expect(pseudonymize('other', 'u1')).toBe(hmac(first, 'u1'))
    secret = Buffer.from('second-secret')
    expect(pseudonymize('acme', 'u1')).toBe(hmac(secret, 'u1'))
    // Far past the bound: still exact, and the oldest entries make room.
    for (let i = 0; i < 12_000; i++) expect(pseudonymize('acme', `u${i}`)).toBe(hmac(secret, `u${i}`))
    expect(pseudonymize('acme', 'u0')).toBe(hmac(secret, 'u0'))
  })

  it('clamps an event the client dated after receipt to received_at', () => {
    const env = envelope()
    const first = env.events[0]!
    const rows = toEventRows({ ...env, events: [{ ...first, ts: env.sent_at + 60_000 }] }, deps)
    expect(rows[0]?.ts).toBe(rows[0]?.received_at)
  })

  it('opens the IP with any key of the keyring, so values sealed before a rotation still count', () => {
    const rotated: IpKeyring = { active: 'k2', keys: new Map([...KEYRING.keys, ['k2', randomBytes(32)]]) }
    const [row] = toEventRows(envelope(), { ...deps, openIp: ipOpener(() => rotated) })
    expect(row).toMatchObject({ country: 'GB', ip_prefix: '81.2.69.0/24' })
  })

  it.each([
    ['an unknown key id', () => envelope(), { active: 'k9', keys: new Map([['k9', randomBytes(32)]]) }, 'cannot open sealed IP: unknown key id "k1"'],
    ['a key that does not match', () => envelope(), { active: 'k1', keys: new Map([['k1', randomBytes(32)]]) }, 'cannot open sealed IP: authentication failed'],
    ['an IP sealed for another org', () => ({ ...envelope(), org_id: 'other' }), KEYRING, 'cannot open sealed IP: authentication failed'],
  ])('makes a message poison when it has %s, naming why but not the address', (_name, make, keyring: IpKeyring, reason) => {
    const run = () => toEventRows(make(), { ...deps, openIp: ipOpener(() => keyring) })
    expect(run).toThrow(PoisonMessageError)
    expect(run).toThrow(reason)
  })
})
