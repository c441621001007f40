import type { DeviceType } from '@atspark/schemas'

/** A visitor's region: public addresses that the shipped CC0 database places in `country`, and matching locale/time zone. */
export interface RegionProfile {
  country: string
  weight: number
  ips: readonly string[]
  locales: readonly string[]
  timezones: readonly string[]
  /** Rough UTC offset in hours, so visits follow the visitor's working day. */
  utcOffset: number
}

/** Checked against the shipped database by traffic.test.ts; addresses of public resolvers, universities and CDNs. */
export const REGIONS: readonly RegionProfile[] = [
  {
    country: 'US',
    weight: 30,
    ips: ['8.8.8.8', '13.107.21.200', '142.250.0.1', '2001:4860:4860::8888'],
    locales: ['en-US'],
    timezones: ['America/New_York', 'America/Chicago', 'America/Los_Angeles'],
    utcOffset: -6,
  },
  { country: 'GB', weight: 10, ips: ['81.2.69.142', '212.58.244.22', '130.246.0.1', '46.101.0.1'], locales: ['en-GB'], timezones: ['Europe/London'], utcOffset: 0 },
  {
    country: 'DE',
    weight: 10,
    ips: ['85.214.132.117', '129.187.254.1', '84.200.69.80', '2001:638:c:a002::1'],
    locales: ['de-DE', 'en-US'],
    timezones: ['Europe/Berlin'],
    utcOffset: 1,
  },
  { country: 'FR', weight: 7, ips: ['62.210.16.6', '80.67.169.12', '195.8.215.68'], locales: ['fr-FR'], timezones: ['Europe/Paris'], utcOffset: 1 },
  { country: 'IN', weight: 7, ips: ['49.44.0.1', '106.51.0.1', '196.1.1.1'], locales: ['en-IN', 'hi-IN'], timezones: ['Asia/Kolkata'], utcOffset: 5 },
  { country: 'JP', weight: 5, ips: ['133.11.0.1', '210.140.92.183', '202.12.27.33'], locales: ['ja-JP'], timezones: ['Asia/Tokyo'], utcOffset: 9 },
  { country: 'BR', weight: 5, ips: ['200.160.2.3', '177.71.207.1'], locales: ['pt-BR'], timezones: ['America/Sao_Paulo'], utcOffset: -3 },
  {
    country: 'NL',
    weight: 4,
    ips: ['193.0.6.139', '145.97.0.1', '2001:67c:2e8:22::c100:68b'],
    locales: ['nl-NL', 'en-GB'],
    timezones: ['Europe/Amsterdam'],
    utcOffset: 1,
  },
  { country: 'CA', weight: 4, ips: ['24.48.0.1', '206.167.0.1'], locales: ['en-CA', 'fr-CA'], timezones: ['America/Toronto', 'America/Vancouver'], utcOffset: -5 },
  { country: 'AU', weight: 4, ips: ['139.130.4.5', '203.2.218.214', '2001:dc3::35'], locales: ['en-AU'], timezones: ['Australia/Sydney'], utcOffset: 10 },
  { country: 'SE', weight: 3, ips: ['192.36.148.17', '2001:7fe::53'], locales: ['sv-SE'], timezones: ['Europe/Stockholm'], utcOffset: 1 },
  { country: 'IE', weight: 2, ips: ['2a00:1450:4001:82b::200e', '31.13.72.36'], locales: ['en-IE'], timezones: ['Europe/Dublin'], utcOffset: 0 },
  { country: 'KR', weight: 2, ips: ['164.124.101.2', '168.126.63.1'], locales: ['ko-KR'], timezones: ['Asia/Seoul'], utcOffset: 9 },
  { country: 'ZA', weight: 1, ips: ['41.0.0.1'], locales: ['en-ZA'], timezones: ['Africa/Johannesburg'], utcOffset: 2 },
  { country: 'AR', weight: 1, ips: ['190.210.0.1'], locales: ['es-AR'], timezones: ['America/Argentina/Buenos_Aires'], utcOffset: -3 },
]

export interface DeviceProfile {
  /** What the processor's UA parser should make of these agents (checked by traffic.test.ts). */
  device: DeviceType
  weight: number
  agents: readonly (readonly [ua: string, weight: number])[]
  screens: readonly (readonly [w: number, h: number])[]
}

export const DEVICES: readonly DeviceProfile[] = [
  {
    device: 'desktop',
    weight: 58,
    agents: [
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 30],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36', 18],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15', 14],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 9],
      ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 5],
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0', 10],
    ],
    screens: [
      [1920, 1080],
      [1440, 900],
      [1536, 864],
      [2560, 1440],
      [1366, 768],
      [1680, 1050],
    ],
  },
  {
    device: 'mobile',
    weight: 32,
    agents: [
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1', 45],
      ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 35],
      [
        'Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
        20,
      ],
    ],
    screens: [
      [390, 844],
      [393, 873],
      [412, 915],
      [375, 667],
      [360, 800],
    ],
  },
  {
    device: 'tablet',
    weight: 7,
    agents: [
      ['Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1', 70],
      ['Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 30],
    ],
    screens: [
      [820, 1180],
      [768, 1024],
      [800, 1280],
    ],
  },
  {
    device: 'bot',
    weight: 3,
    agents: [
      ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 50],
      ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 30],
      ['Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', 20],
    ],
    screens: [[1024, 768]],
  },
]

/**
 * Where a visit comes from: the referrer its browser sends and, for a tagged link, the landing URL's campaign tags.
 * The processor groups each into a channel (Direct, Organic Search, Paid Search, Organic Social, Paid Social, Email, Referral, Video…).
 */
export interface TrafficSource {
  /** The referrer URL as the SDK sends it (no query); absent for a direct visit. */
  referrer?: string
  /** The landing link's utm tags, a query string without `?`. */
  tags?: string
  /** Where a tagged link lands, instead of a usual entry page. */
  landing?: string
  /** Where half of these visits head next (a campaign's call to action). */
  next?: string
}

/** Three campaigns for the product: a newsletter, a search ad and a paid social ad; each lands on its own page. */
const SPRING_NEWSLETTER = 'utm_source=newsletter&utm_medium=email&utm_campaign=spring'
const BRAND_SEARCH_AD = 'utm_source=google&utm_medium=cpc&utm_campaign=brand_search&utm_term=privacy+analytics'
const WEBINAR_AD = 'utm_source=linkedin&utm_medium=paid_social&utm_campaign=q4_webinar'

/** Where product sessions come from: search, social, e-mail, other sites, direct, and the campaigns above. */
export const SOURCES: readonly (readonly [TrafficSource, number])[] = [
  [{}, 24],
  [{ referrer: 'https://www.google.com/' }, 24],
  [{ referrer: 'https://www.google.co.uk/' }, 3],
  [{ referrer: 'https://www.bing.com/' }, 4],
  [{ referrer: 'https://duckduckgo.com/' }, 4],
  [{ referrer: 'https://news.ycombinator.com/' }, 5],
  [{ referrer: 'https://www.reddit.com/' }, 3],
  [{ referrer: 'https://github.com/' }, 3],
  [{ referrer: 'https://t.co/' }, 2],
  [{ referrer: 'https://l.facebook.com/' }, 2],
  [{ referrer: 'https://lnkd.in/' }, 2],
  [{ referrer: 'https://www.youtube.com/' }, 2],
  [{ referrer: 'https://mail.google.com/' }, 2],
  [{ referrer: 'https://www.theverge.com/' }, 2],
  [{ referrer: 'https://techcrunch.com/' }, 2],
  // Mail apps send no referrer; webmail does.
  [{ tags: SPRING_NEWSLETTER, landing: '/blog/privacy-first-analytics', next: '/pricing' }, 4],
  [{ referrer: 'https://mail.google.com/', tags: SPRING_NEWSLETTER, landing: '/blog/privacy-first-analytics', next: '/pricing' }, 2],
  [{ referrer: 'https://www.google.com/', tags: BRAND_SEARCH_AD, landing: '/pricing', next: '/signup' }, 5],
  [{ referrer: 'https://www.linkedin.com/', tags: `${WEBINAR_AD}&utm_content=carousel_a`, landing: '/features', next: '/signup' }, 3],
  [{ referrer: 'https://www.linkedin.com/', tags: `${WEBINAR_AD}&utm_content=video_b`, landing: '/features', next: '/signup' }, 2],
  [{ referrer: 'https://saas-reviews.example/', tags: 'utm_source=saas_reviews&utm_medium=affiliate&utm_campaign=spring', landing: '/pricing' }, 1],
]

/** Entry pages of anonymous sessions. */
export const ENTRY_PAGES: readonly (readonly [string, number])[] = [
  ['/', 45],
  ['/pricing', 12],
  ['/docs', 10],
  ['/blog/privacy-first-analytics', 12],
  ['/docs/getting-started', 8],
  ['/features', 8],
]

/** Where anonymous visitors go next. */
export const BROWSE_PAGES: readonly (readonly [string, number])[] = [
  ['/', 10],
  ['/pricing', 20],
  ['/docs', 14],
  ['/docs/getting-started', 10],
  ['/docs/sdk', 7],
  ['/features', 12],
  ['/signup', 8],
  ['/blog/privacy-first-analytics', 4],
]

/** Where signed-in accounts go. */
export const APP_PAGES: readonly (readonly [string, number])[] = [
  ['/reports', 25],
  ['/dashboards/overview', 22],
  ['/dashboards/revenue', 12],
  ['/dashboards/funnel', 9],
  ['/dashboards/retention', 6],
  ['/docs/sdk', 5],
  ['/account', 4],
  ['/pricing', 3],
]

export const DASHBOARDS: Readonly<Record<string, string>> = {
  '/dashboards/overview': 'Overview',
  '/dashboards/revenue': 'Revenue',
  '/dashboards/funnel': 'Signup funnel',
  '/dashboards/retention': 'Retention',
}

export const QUERIES: readonly (readonly [string, number])[] = [
  ['Weekly active users', 30],
  ['Top pages', 22],
  ['Signups by source', 16],
  ['Revenue by country', 12],
  ['Churn cohort', 8],
  ['Slowest endpoints', 5],
]

export const CLICKS: Readonly<Record<string, readonly string[]>> = {
  '/': ['Get started', 'Watch demo', 'See pricing'],
  '/pricing': ['Start free trial', 'Contact sales', 'Compare plans'],
  '/features': ['Get started', 'Read the docs'],
  '/docs': ['Copy snippet', 'Next page', 'Search docs'],
  '/docs/getting-started': ['Copy snippet', 'Next page'],
  '/docs/sdk': ['Copy snippet', 'Open on GitHub'],
  '/blog/privacy-first-analytics': ['Share', 'Get started'],
  '/signup': ['Create account', 'Sign in with Google'],
  '/reports': ['Run query', 'Export', 'Save query'],
  '/account': ['Invite teammate', 'Change plan'],
}

/** Feature adoption by accounts: share of accounts that ever use each feature. */
export const FEATURES: readonly (readonly [string, number])[] = [
  ['sql_editor', 0.7],
  ['export_csv', 0.55],
  ['share_dashboard', 0.4],
  ['scheduled_reports', 0.28],
  ['alerts', 0.2],
  ['dark_mode', 0.35],
  ['api_tokens', 0.12],
]

export const PLANS: readonly (readonly [string, number])[] = [
  ['free', 55],
  ['team', 35],
  ['enterprise', 10],
]

/** Relative traffic by local hour: quiet nights, a working-day plateau and an evening bump. */
export const HOUR_WEIGHTS: readonly number[] = [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 4, 6, 7, 7, 6, 6.5, 7, 6.5, 6, 5, 4, 3.5, 3.5, 3, 2.2, 1.5]

/** Relative traffic by UTC weekday (0 = Sunday): weekends are quieter for a B2B product. */
export const WEEKDAY_WEIGHTS: readonly number[] = [0.5, 1, 1.05, 1.05, 1, 0.9, 0.55]

/** What a site's visitors do: where they land and go, what they click, which features accounts use. */
export interface SiteProfile {
  entryPages: readonly (readonly [string, number])[]
  browsePages: readonly (readonly [string, number])[]
  /** Where signed-in accounts go. */
  appPages: readonly (readonly [string, number])[]
  sources: readonly (readonly [TrafficSource, number])[]
  clicks: Readonly<Record<string, readonly string[]>>
  dashboards: Readonly<Record<string, string>>
  features: readonly (readonly [string, number])[]
  /** Share of human visitors who are signed in. */
  accountShare: number
}

/** The demo product itself (site `demo`). */
export const PRODUCT_SITE: SiteProfile = {
  entryPages: ENTRY_PAGES,
  browsePages: BROWSE_PAGES,
  appPages: APP_PAGES,
  sources: SOURCES,
  clicks: CLICKS,
  dashboards: DASHBOARDS,
  features: FEATURES,
  accountShare: 0.16,
}

/** A second site of the demo org (`docs`): developers reading documentation, searching and copying snippets. */
export const DOCS_SITE: SiteProfile = {
  entryPages: [
    ['/', 20],
    ['/getting-started', 25],
    ['/sdk/reference', 18],
    ['/api/stats', 12],
    ['/guides/consent-modes', 10],
    ['/guides/dashboard', 8],
    ['/changelog', 7],
  ],
  browsePages: [
    ['/getting-started', 14],
    ['/sdk/reference', 18],
    ['/sdk/events', 12],
    ['/api/stats', 12],
    ['/api/privacy', 8],
    ['/guides/consent-modes', 10],
    ['/guides/self-hosting', 9],
    ['/changelog', 5],
  ],
  appPages: [
    ['/api/stats', 25],
    ['/api/privacy', 15],
    ['/sdk/reference', 20],
    ['/guides/self-hosting', 15],
    ['/changelog', 10],
  ],
  sources: [
    [{ referrer: 'https://www.google.com/' }, 36],
    [{}, 20],
    [{ referrer: 'https://github.com/' }, 12],
    [{ referrer: 'https://stackoverflow.com/' }, 8],
    [{ referrer: 'https://duckduckgo.com/' }, 6],
    [{ referrer: 'https://www.bing.com/' }, 4],
    [{ referrer: 'https://news.ycombinator.com/' }, 4],
    [{ referrer: 'https://dev.to/' }, 3],
    [{ referrer: 'https://www.youtube.com/' }, 2],
    [{ tags: 'utm_source=newsletter&utm_medium=email&utm_campaign=sdk_release', landing: '/changelog', next: '/sdk/reference' }, 5],
  ],
  clicks: {
    '/': ['Get started', 'Search docs'],
    '/getting-started': ['Copy snippet', 'Next page'],
    '/sdk/reference': ['Copy snippet', 'Open on GitHub'],
    '/sdk/events': ['Copy snippet'],
    '/api/stats': ['Copy curl', 'Open OpenAPI'],
    '/api/privacy': ['Copy curl'],
    '/guides/consent-modes': ['Next page', 'Copy snippet'],
    '/guides/self-hosting': ['Copy command', 'Next page'],
  },
  dashboards: {},
  features: [
    ['docs_search', 0.75],
    ['copy_snippet', 0.6],
    ['code_language_switch', 0.35],
    ['dark_mode', 0.3],
    ['feedback_widget', 0.15],
  ],
  accountShare: 0.12,
}
