import { UTM_MAX_LENGTH } from '@atspark/schemas'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { cleanTag, looksPersonal, NO_CAMPAIGN, pageCampaign } from './utm.js'

/** Tag values seen on real campaign links: each must be kept as sent. */
const CAMPAIGN_VALUES = [
  'google',
  'newsletter',
  'Spring_Sale_Q4_2026',
  'black-friday-2026',
  'launch-2026-11-28',
  'summer sale',
  'cpc',
  'paid_social',
  'e-mail',
  'partner-blog',
  'MyCampaignName2026',
  'spring_sale_newsletter_2026',
  'retargeting_v2_lookalike_audience',
  'brand+analytics software',
  'Plan Pro – Mensuel',
  'früjahrs-aktion',
  'キャンペーン',
  'ad_variant_b',
  'header-cta',
  'yt-ads',
  'pmax-cross-network',
  'q1-2026-webinar-series-part-3',
  'utm-builder',
  '12345',
  'campaign_v12',
]

/** Values that identify a person or carry a secret: each must be dropped. */
const PERSONAL_VALUES = [
  'alice@example.com',
  'newsletter-alice@example.co.uk',
  'Bob.Smith+promo@mail.example.org',
  '1234567',
  'customer_00012345',
  'order-987654',
  '+44 20 7946 0958',
  '(555) 123-4567 ext',
  '020 7946 0958',
  '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a01',
  '0B6C3F5E6F534B8E9D3C2F1A6F0E9A01',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
  'session_9f86d081884c7d659a2feaa0c55ad015',
  'Xk9sLq2ZrT7bWm4NcP8vYd3F',
  'tok_aB3dE5fG7hJ9kL1mN3pQ5rS',
  'a3f9c2e1b4d5a6f7',
]

describe('looksPersonal / cleanTag', () => {
  it.each(CAMPAIGN_VALUES)('keeps the campaign value %j', (value) => {
    expect(looksPersonal(value)).toBe(false)
    expect(cleanTag(value)).toBe(value)
  })

  it.each(PERSONAL_VALUES)('drops the personal value %j', (value) => {
    expect(looksPersonal(value)).toBe(true)
    expect(cleanTag(value)).toBe('')
  })

  it('trims, turns control characters into spaces, and cuts at 100 characters without splitting a surrogate pair', () => {
    expect(cleanTag('  spring  ')).toBe('spring')
    expect(cleanTag('a\u0000b\nc')).toBe('a b c')
    expect(cleanTag('x'.repeat(250))).toHaveLength(UTM_MAX_LENGTH)
    expect(cleanTag('x'.repeat(4 * UTM_MAX_LENGTH))).toHaveLength(UTM_MAX_LENGTH)
    // Past four times the bound a value is junk and dropped whole, which also bounds the cost of the checks.
    expect(cleanTag('x'.repeat(4 * UTM_MAX_LENGTH + 1))).toBe('')
    const started = performance.now()
    for (const evil of ['@'.repeat(2_000), `${'1-'.repeat(199)}x`, '@'.repeat(400)]) cleanTag(evil)
    expect(performance.now() - started).toBeLessThan(50)
    const emoji = `${'y'.repeat(UTM_MAX_LENGTH - 1)}😀tail`
    const cut = cleanTag(emoji)
    expect(cut).toBe('y'.repeat(UTM_MAX_LENGTH - 1))
    expect(encodeURIComponent(cut)).toBeTruthy() // throws on a lone surrogate
  })

  it('drops a value whose personal part lies beyond the cut', () => {
    expect(cleanTag(`${'campaign-'.repeat(12)}alice@example.com`)).toBe('')
  })

  it('never stores an address, a 6-digit run or an over-long value, whatever is sent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300, unit: 'binary' }), (raw) => {
        const v = cleanTag(raw)
        expect(v.length).toBeLessThanOrEqual(UTM_MAX_LENGTH)
        expect(v).not.toMatch(/\d{6}|[^\s@]+@[^\s@]+\.[^\s@]{2,}/)
        expect(v).toBe(v.trim())
      }),
      { seed: 15, numRuns: 500 },
    )
  }, 30_000)
})

describe('pageCampaign', () => {
  it('reads the five tags from the page URL query, decoded', () => {
    expect(
      pageCampaign(
        'https://shop.example.com/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale&utm_term=web+analytics&utm_content=header-cta#plans',
      ),
    ).toEqual({
      utm_source: 'newsletter',
      utm_medium: 'email',
      utm_campaign: 'spring sale',
      utm_term: 'web analytics',
      utm_content: 'header-cta',
      adClickId: false,
    })
  })

  it('blanks a personal value and keeps the others', () => {
    expect(pageCampaign('https://a.example/?utm_source=crm&utm_campaign=alice%40example.com&utm_content=0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a01')).toEqual({
      ...NO_CAMPAIGN,
      utm_source: 'crm',
    })
  })

  it('takes the first of repeated tags, names in any case, and ignores tags in the fragment', () => {
    expect(pageCampaign('https://a.example/?UTM_Source=first&utm_source=second').utm_source).toBe('first')
    expect(pageCampaign('https://a.example/#utm_source=fragment')).toEqual(NO_CAMPAIGN)
    expect(pageCampaign('https://a.example/?a=1#x?utm_source=fragment')).toEqual(NO_CAMPAIGN)
  })

  it('notes an ad click id (gclid, gbraid, wbraid, msclkid) but stores nothing of it', () => {
    for (const id of ['gclid', 'gbraid', 'wbraid', 'msclkid']) {
      expect(pageCampaign(`https://a.example/?${id}=Cj0KCQiA123`), id).toEqual({ ...NO_CAMPAIGN, adClickId: true })
    }
    expect(pageCampaign('https://a.example/?fbclid=IwAR123').adClickId).toBe(false)
  })

  it('splits the query as URLSearchParams does: bare names, empty pairs, = inside a value, + and %2B', () => {
    expect(pageCampaign('https://a.example/?utm_source&&utm_medium=a=b&utm_term=web+analytics%2Bmore&utm_content=')).toEqual({
      ...NO_CAMPAIGN,
      utm_medium: 'a=b',
      utm_term: 'web analytics+more',
    })
  })

  it('agrees with URLSearchParams on any query built from tag names, separators and escapes (then cleaned)', () => {
    const name = fc.constantFrom('utm_source', 'UTM_Medium', 'utm_campaign', 'utm_term', 'utm_content', 'gclid', 'msclkid', 'utm_sourcex', 'x', '')
    const value = fc
      .array(fc.constantFrom('+', '%', '%2', '%41', '%E2%82%AC', '%FF', 'spring', 'alice@example.com', '123456', '=', ' a ', '#'), { maxLength: 4 })
      .map((p) => p.join(''))
    const pair = fc.tuple(name, fc.boolean(), value).map(([n, eq, v]) => (eq ? `${n}=${v}` : n))
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 6 }), (pairs) => {
        const query = pairs.join('&')
        const got = pageCampaign(`https://a.example/p?${query}`)
        const expected: Record<string, string> = {}
        let click = false
        for (const [name, value] of new URLSearchParams(query.split('#')[0])) {
          const n = name.toLowerCase()
          if (['gclid', 'gbraid', 'wbraid', 'msclkid'].includes(n)) click = true
          else if (n.startsWith('utm_') && n in NO_CAMPAIGN && !(n in expected)) expected[n] = cleanTag(value)
        }
        expect(got).toEqual({ ...NO_CAMPAIGN, ...expected, adClickId: click })
      }),
      { seed: 15, numRuns: 1_000 },
    )
  })

  it('returns the shared empty value for URLs without tags, and survives broken encodings', () => {
    for (const u of [undefined, '', 'https://a.example/', 'https://a.example/?q=1&page=2', 'not a url']) expect(pageCampaign(u)).toBe(NO_CAMPAIGN)
    expect(pageCampaign('https://a.example/?utm_source=%E0%A4%A&utm_medium=%')).toEqual({ ...NO_CAMPAIGN, utm_source: '\ufffd%A', utm_medium: '%' })
  })
})
