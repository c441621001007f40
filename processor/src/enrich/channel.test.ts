import { ReferrerParser } from '@tryghost/referrer-parser'
import { describe, expect, it } from 'vitest'
import { channelOf, HOST_CACHE_MAX, hostCacheSize, hostCategory, isInternal, taggedSourceCategory } from './channel.js'
import { pageCampaign } from './utm.js'
import { referrerHost, urlParts } from './url.js'

/** The channel of an event as the processor computes it: from the raw page URL and referrer the SDK sends. */
function channel(u: string, r?: string): string {
  return channelOf(referrerHost(r), urlParts(u).host, pageCampaign(u))
}

const PAGE = 'https://shop.example.com/pricing'

describe('channel of an untagged visit, by referrer', () => {
  it.each([
    ['https://www.google.com/', 'Organic Search'],
    ['https://google.com/', 'Organic Search'],
    ['https://www.google.co.uk/', 'Organic Search'],
    ['https://www.google.com.br/', 'Organic Search'],
    ['https://www.bing.com/search?q=atspark', 'Organic Search'],
    ['https://duckduckgo.com/', 'Organic Search'],
    ['https://html.duckduckgo.com/', 'Organic Search'],
    ['https://search.yahoo.com/', 'Organic Search'],
    ['https://yandex.ru/', 'Organic Search'],
    ['https://www.ecosia.org/', 'Organic Search'],
    ['https://search.brave.com/', 'Organic Search'],
    ['https://www.baidu.com/', 'Organic Search'],
    ['https://t.co/abc', 'Organic Social'],
    ['https://l.facebook.com/', 'Organic Social'],
    ['https://m.facebook.com/', 'Organic Social'],
    ['https://lnkd.in/xyz', 'Organic Social'],
    ['https://www.linkedin.com/', 'Organic Social'],
    ['https://news.ycombinator.com/', 'Organic Social'],
    ['https://www.reddit.com/r/analytics', 'Organic Social'],
    ['https://old.reddit.com/', 'Organic Social'],
    ['https://x.com/', 'Organic Social'],
    ['https://bsky.app/', 'Organic Social'],
    ['https://www.pinterest.com/', 'Organic Social'],
    ['https://www.tiktok.com/', 'Organic Social'],
    ['https://mail.google.com/', 'Email'],
    ['https://outlook.live.com/', 'Email'],
    ['https://mail.yahoo.com/', 'Email'],
    ['https://www.youtube.com/watch?v=1', 'Video'],
    ['https://m.youtube.com/', 'Video'],
    ['https://youtu.be/x', 'Video'],
    ['https://vimeo.com/1', 'Video'],
    ['https://www.twitch.tv/', 'Video'],
    ['https://ad.doubleclick.net/', 'Display'],
    ['https://tpc.googlesyndication.com/', 'Display'],
    ['https://en.wikipedia.org/wiki/Web_analytics', 'Referral'],
    ['https://blog.example.org/post', 'Referral'],
    ['https://chatgpt.com/', 'Referral'],
    ['https://support.google.com/', 'Referral'],
    ['http://192.168.1.10:8080/', 'Referral'],
  ])('%s → %s', (referrer, expected) => {
    expect(channel(PAGE, referrer)).toBe(expected)
  })

  it('is Direct without a referrer, or with one that is not a web URL', () => {
    expect(channel(PAGE)).toBe('Direct')
    expect(channel(PAGE, '')).toBe('Direct')
    expect(channel(PAGE, 'android-app://com.google.android.gm')).toBe('Direct')
    expect(channel('', '')).toBe('Direct')
  })

  it('is Internal when the referrer is the page host (a navigation within the site), with or without www.', () => {
    expect(channel(PAGE, 'https://shop.example.com/')).toBe('Internal')
    expect(channel('https://www.example.com/a', 'https://example.com/b')).toBe('Internal')
    expect(channel('https://example.com/a', 'https://www.example.com/b')).toBe('Internal')
    // A sibling subdomain is another site.
    expect(channel(PAGE, 'https://blog.example.com/')).toBe('Referral')
    expect(isInternal('', '')).toBe(false)
  })
})

describe('channel of a tagged visit (utm tags win over the referrer, GA4 order)', () => {
  it.each([
    ['?utm_source=google&utm_medium=cpc', undefined, 'Paid Search'],
    ['?utm_source=bing&utm_medium=ppc', undefined, 'Paid Search'],
    ['?utm_source=Google&utm_medium=paidsearch', undefined, 'Paid Search'],
    ['?utm_source=adwords', undefined, 'Paid Search'],
    ['?utm_medium=cpc', 'https://www.google.com/', 'Paid Search'],
    ['?gclid=Cj0KCQiA', undefined, 'Paid Search'],
    ['?gclid=Cj0KCQiA', 'https://www.google.com/', 'Paid Search'],
    ['?msclkid=abc', 'https://www.bing.com/', 'Paid Search'],
    ['?gclid=Cj0KCQiA', 'https://some-news-site.example/', 'Display'],
    ['?utm_source=facebook&utm_medium=paid_social', undefined, 'Paid Social'],
    ['?utm_source=fb-ads', undefined, 'Paid Social'],
    ['?utm_source=linkedin&utm_medium=cpc', undefined, 'Paid Social'],
    ['?utm_source=instagram&utm_medium=cpm', undefined, 'Paid Social'],
    ['?utm_source=yt-ads', undefined, 'Video'],
    ['?utm_source=youtube&utm_medium=cpv', undefined, 'Video'],
    ['?utm_source=youtube', undefined, 'Video'],
    ['?utm_source=partner&utm_medium=video', undefined, 'Video'],
    ['?utm_source=criteo&utm_medium=display', undefined, 'Display'],
    ['?utm_source=nytimes&utm_medium=banner', undefined, 'Display'],
    ['?utm_source=newsletter-sponsor&utm_medium=cpc', undefined, 'Display'],
    ['?utm_campaign=pmax-cross-network&utm_source=google', undefined, 'Display'],
    ['?utm_source=twitter', undefined, 'Organic Social'],
    ['?utm_source=x', undefined, 'Organic Social'],
    ['?utm_source=news.ycombinator.com', undefined, 'Organic Social'],
    ['?utm_source=mastodon&utm_medium=social', undefined, 'Organic Social'],
    ['?utm_source=buffer&utm_medium=social-media', undefined, 'Organic Social'],
    ['?utm_source=google&utm_medium=organic', undefined, 'Organic Search'],
    ['?utm_source=duckduckgo', undefined, 'Organic Search'],
    ['?utm_medium=organic', undefined, 'Organic Search'],
    ['?utm_medium=email', undefined, 'Email'],
    ['?utm_source=newsletter&utm_medium=email&utm_campaign=launch', undefined, 'Email'],
    ['?utm_source=newsletter', undefined, 'Email'],
    ['?utm_source=mailchimp&utm_medium=e-mail', undefined, 'Email'],
    ['?utm_source=gmail', undefined, 'Email'],
    ['?utm_source=partner-blog&utm_medium=affiliate', undefined, 'Affiliates'],
    ['?utm_source=partner-blog&utm_medium=referral', undefined, 'Referral'],
    ['?utm_source=podcast', undefined, 'Referral'],
    ['?utm_campaign=spring', 'https://www.google.com/', 'Organic Search'],
  ])('%s (referrer %s) → %s', (query, referrer, expected) => {
    expect(channel(`${PAGE}${query}`, referrer)).toBe(expected)
  })

  it('tags on an in-site link still name their source, a medium alone with an in-site referrer stays Internal', () => {
    expect(channel(`${PAGE}?utm_source=newsletter&utm_medium=email`, 'https://shop.example.com/')).toBe('Email')
    expect(channel(`${PAGE}?utm_medium=banner-top`, 'https://shop.example.com/')).toBe('Internal')
  })

  it('reads a tag whose value looked personal as absent', () => {
    // The medium was dropped (an e-mail address), so only the referrer is left to go by.
    expect(channel(`${PAGE}?utm_medium=alice%40example.com`, 'https://t.co/')).toBe('Organic Social')
  })
})

describe('the referrer list', () => {
  it('classifies every plain host of the library list as the library does (its own parse), but for the video supplement', () => {
    const parser = new ReferrerParser()
    const sample = ['www.google.com', 'www.google.de', 'bing.com', 't.co', 'lnkd.in', 'mail.google.com', 'ad.doubleclick.net', 'en.wikipedia.org']
    const expected: Record<string, string> = { search: 'search', social: 'social', email: 'email', paid: 'ads' }
    for (const host of sample) {
      const medium = parser.parse(`https://${host}/`).referrerMedium ?? ''
      expect(hostCategory(host), host).toBe(expected[medium] ?? 'other')
    }
    // GA4 files YouTube as a video site; the library, as social.
    expect(parser.parse('https://youtube.com/').referrerMedium).toBe('social')
    expect(hostCategory('youtube.com')).toBe('video')
  })

  it('names utm sources by the list too, and spots paid ones', () => {
    expect(taggedSourceCategory('Google')).toEqual({ category: 'search', paid: false })
    expect(taggedSourceCategory('facebook_ads')).toEqual({ category: 'social', paid: true })
    expect(taggedSourceCategory('roads')).toEqual({ category: 'other', paid: false })
    expect(taggedSourceCategory('www.reddit.com')).toEqual({ category: 'social', paid: false })
  })

  it('answers a repeated host from the cache and survives a flood of distinct junk hosts', () => {
    for (let i = 0; i < 30_000; i++) hostCategory(`junk-${i}.example.net`)
    expect(hostCacheSize()).toBe(HOST_CACHE_MAX)
    expect(HOST_CACHE_MAX).toBeLessThanOrEqual(10_000)
    expect(hostCategory('www.google.co.uk')).toBe('search')
    expect(hostCategory('junk-29999.example.net')).toBe('other')
  })
})
