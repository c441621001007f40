import { ROLLUP_TABLES } from '@atspark/warehouse'
import { WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import { profileParams } from './profile.js'
import { oneOf, pick, pickIndex, u, zipf } from './sql.js'
import { weighted } from './weighted.js'
import type { Warehouse } from './warehouse.js'

export interface GenerateOptions {
  org: string
  /** The marketing site (anonymous visitors, referrers, bots) and the product (signed-in accounts, features). */
  sites: { web: string; app: string }
  events: number
  /** UTC midnight the data ends at (exclusive), and how many whole days before it hold data. */
  endDayMs: number
  days: number
  /** Rows per INSERT … SELECT: a few large inserts, each one pass of the views. */
  chunkEvents: number
}

const DAY_MS = 86_400_000
/** Sessions average about 5.6 events; asking for this few per session leaves headroom, and LIMIT cuts the excess. */
const MIN_EVENTS_PER_SESSION = 4.5

/** Shares and pool sizes, scaled to the event count so a small test run has the same shape as 10 million. */
function shape(events: number) {
  return {
    app_share: 0.3,
    bot_share: 0.03,
    app_anon_share: 0.08,
    visitors: Math.max(1_000, Math.round(events / 10)),
    accounts: Math.max(100, Math.round(events / 500)),
    bots: Math.max(20, Math.round(events / 2_000)),
  }
}

/**
 * Landing campaigns of tagged web sessions: utm_source|utm_medium|utm_campaign|utm_term|utm_content|channel, the channel as
 * GA4's rules name it for those tags; `#` becomes a Zipf-ranked issue number so campaigns have a long tail.
 */
const CAMPAIGNS = weighted([
  ['google|cpc|spring|web analytics|ad-a|Paid Search', 14],
  ['google|cpc|brand|atspark|ad-b|Paid Search', 8],
  ['bing|cpc|spring|privacy analytics|ad-a|Paid Search', 4],
  ['newsletter|email|newsletter-#||header|Email', 16],
  ['newsletter|email|spring||footer|Email', 6],
  ['twitter|social|launch||thread|Organic Social', 8],
  ['linkedin|paid_social|spring||carousel|Paid Social', 6],
  ['facebook|paid_social|summer||video|Paid Social', 5],
  ['partner-blog|affiliate|summer||banner|Affiliates', 4],
  ['ads.example|display|retargeting||300x250|Display', 4],
  ['youtube|video|launch||preroll|Video', 3],
  ['hn|referral|launch|||Referral', 3],
])
/** A share of anonymous web sessions that land on a tagged URL. */
const UTM_SHARE = 0.22

const WEB_TYPES = weighted([
  ['pageview', 60],
  ['click', 34],
  ['custom', 6],
])
const APP_TYPES = weighted([
  ['pageview', 38],
  ['click', 15],
  ['dashboard', 14],
  ['query', 16],
  ['feature', 13],
  ['custom', 4],
])

/** Pages: the demo's head pages plus a long tail (blog posts, docs, dashboards and reports by id); per session and page number (`page_no`, a UInt64). */
const webTail = (pageNo: string) => `if(${u(`s, ${pageNo}`, 32)} < 0.5,
    concat('/blog/post-', ${zipf(800, u(`s, ${pageNo}`, 33))}),
    concat('/docs/', ${oneOf(['guides', 'api', 'sdk', 'integrations', 'self-hosting'], `s, ${pageNo}`, 34)}, '/page-', ${zipf(60, u(`s, ${pageNo}`, 35))}))`
const pathAt = (pageNo: string) => `multiIf(
    bot, if(${u(`s, ${pageNo}`, 30)} < 0.6, ${webTail(pageNo)}, ${pick('browse', 'String', u(`s, ${pageNo}`, 31))}),
    signed, if(${u(`s, ${pageNo}`, 30)} < 0.45,
               if(${u(`s, ${pageNo}`, 32)} < 0.45, concat('/dashboards/', ${zipf(2000, u(`s, ${pageNo}`, 33))}), concat('/reports/', ${zipf(3000, u(`s, ${pageNo}`, 33))})),
               ${pick('app_page', 'String', u(`s, ${pageNo}`, 31))}),
    is_app, ${oneOf(['/login', '/login', '/signup', '/password-reset'], `s, ${pageNo}`, 36)},
    ${u(`s, ${pageNo}`, 30)} < 0.3, ${webTail(pageNo)},
    ${pageNo} = 1, ${pick('entry', 'String', u(`s, ${pageNo}`, 31))},
    ${pick('browse', 'String', u(`s, ${pageNo}`, 31))})`

/** Sessions: who (visitor, account or bot), when, from where, on what, and the event types in order. */
const SESSIONS = `
SELECT
    number AS s,
    ${u('s', 1)} < {app_share:Float64} AS is_app,
    NOT is_app AND ${u('s', 2)} < {bot_share:Float64} AS bot,
    is_app AND ${u('s', 3)} >= {app_anon_share:Float64} AS signed,
    toUInt64(floor(pow(${u('s', 4)}, 1.7) * {accounts:UInt32})) AS account,
    multiIf(bot, 3000000000 + toUInt64(floor(pow(${u('s', 5)}, 2) * {bots:UInt32})),
            signed, 2000000000 + account * 4 + (${u('s', 6)} < 0.25),
            toUInt64(floor(pow(${u('s', 5)}, 1.5) * {visitors:UInt32}))) AS v,
    ${pickIndex('region', u('v', 8))} AS region,
    if(bot, ${pickIndex('bot', u('v', 9))}, ${pickIndex('agent', u('v', 9))}) AS agent,
    ${pickIndex('day', u('s', 10))} - 1 AS day_index,
    if(bot, toInt32(floor(${u('s', 11)} * 24)), toInt32(${pickIndex('hour', u('s', 11))}) - 1) AS local_hour,
    ((local_hour - {region_offset:Array(Int32)}[region]) % 24 + 24) % 24 AS utc_hour,
    {first_day_ms:Int64} + day_index * ${DAY_MS} + utc_hour * 3600000 + toInt64(floor(${u('s', 12)} * 3600000)) AS start_ms,
    toUInt32(multiIf(bot, 3 + floor(${u('s', 13)} * 10),
                     signed, 2 + floor(pow(${u('s', 13)}, 2) * 24),
                     is_app, 1 + floor(${u('s', 13)} * 3),
                     ${u('s', 13)} < 0.4, 1,
                     2 + floor(pow(${u('s', 14)}, 1.6) * 12))) AS n,
    arrayMap(i -> if(i = 0 OR bot, 'pageview',
                     if(signed, ${pick('app_types', 'String', u('s, i', 15))}, ${pick('web_types', 'String', u('s, i', 15))})),
             range(n)) AS types,
    arrayCumSum(arrayMap(t -> toUInt32(t = 'pageview'), types)) AS page_nos,
    if(is_app, {app:String}, {web:String}) AS site_id,
    if(is_app, 'app.atspark.example', 'www.atspark.example') AS url_host,
    NOT bot AND NOT is_app AND ${u('s', 70)} < {utm_share:Float64} AS has_utm,
    if(has_utm, splitByChar('|', replaceOne(${pick('campaign', 'String', u('s', 71))}, '#', ${zipf(40, u('s', 72))})), ['', '', '', '', '', '']) AS utm,
    if(bot OR is_app, '',
       if(${u('s', 16)} < 0.15,
          concat(${oneOf(['blog', 'news', 'forum', 'community', 'dev'], 's', 17)}, '-', ${zipf(3000, u('s', 18))}, '.example'),
          ${pick('referrer', 'String', u('s', 19))})) AS referrer,
    -- The visit's channel, from its landing event's tags or else its referrer; the processor stamps it on all the visit's events.
    multiIf(has_utm, utm[6], referrer = '', 'Direct', referrer = 'mail.google.com', 'Email', referrer = 'www.youtube.com', 'Video',
            referrer IN ('www.google.com', 'www.google.co.uk', 'www.bing.com', 'duckduckgo.com'), 'Organic Search',
            referrer IN ('www.reddit.com', 'www.linkedin.com', 'lnkd.in', 'l.facebook.com', 't.co'), 'Organic Social', 'Referral') AS visit_channel,
    -- The visit's first pageview is its first event (page 1): its path is the entry_page the processor stamps on every event of the visit.
    ${pathAt('toUInt64(1)')} AS entry_page,
    substring(lower(hex(sipHash128(v, 20))), 1, 8) || '-' || substring(lower(hex(sipHash128(v, 20))), 9, 12) AS anon_id,
    substring(lower(hex(sipHash128(s, 21))), 1, 16) AS session_id,
    if(signed, lower(hex(SHA256(concat('bench-account-', toString(account))))), '') AS user_pid,
    multiIf(cityHash64(account, 22) % 100 < 55, 'free', cityHash64(account, 22) % 100 < 90, 'team', 'enterprise') AS plan,
    if(bot, {bot_browser:Array(String)}[agent], {agent_browser:Array(String)}[agent]) AS browser,
    if(bot, {bot_browser_version:Array(String)}[agent], {agent_browser_version:Array(String)}[agent]) AS browser_version,
    if(bot, {bot_os:Array(String)}[agent], {agent_os:Array(String)}[agent]) AS os,
    if(bot, {bot_os_version:Array(String)}[agent], {agent_os_version:Array(String)}[agent]) AS os_version,
    if(bot, {bot_device_type:Array(String)}[agent], {agent_device_type:Array(String)}[agent]) AS device_type,
    splitByChar('x', if(bot, '0x0', arrayElement({agent_screens:Array(Array(String))}[agent],
        1 + cityHash64(v, 23) % length({agent_screens:Array(Array(String))}[agent])))) AS screen,
    if(bot, '', arrayElement({region_locales:Array(Array(String))}[region], 1 + cityHash64(v, 24) % length({region_locales:Array(Array(String))}[region]))) AS locale,
    if(bot, '', arrayElement({region_tzs:Array(Array(String))}[region], 1 + cityHash64(v, 25) % length({region_tzs:Array(Array(String))}[region]))) AS tz,
    {region_v:Array(String)}[region] AS country,
    concat(toString(1 + cityHash64(v, 26) % 223), '.', toString(cityHash64(v, 27) % 256), '.', toString(cityHash64(v, 28) % 256), '.0/24') AS ip_prefix
FROM numbers_mt({first_session:UInt64}, {sessions:UInt64})`

/** Event names by type: a page offers a few click labels, a dashboard page names its dashboard, signups complete on /signup, an account uses at most three features. */
const NAME = `multiIf(
    type = 'click', {clicks:Array(String)}[1 + (cityHash64(url_path) + cityHash64(s, i, 40) % 3) % length({clicks:Array(String)})],
    type = 'dashboard', transform(url_path, {dashboard_paths:Array(String)}, {dashboard_names:Array(String)},
                                  if(startsWith(url_path, '/dashboards/'), concat('Dashboard #', substring(url_path, 13)),
                                     {dashboard_names:Array(String)}[1 + cityHash64(s, i, 43) % length({dashboard_names:Array(String)})])),
    type = 'query', if(${u('s, i', 41)} < 0.4, concat('Saved query #', ${zipf(2000, u('s, i', 42))}), ${pick('query', 'String', u('s, i', 43))}),
    type = 'feature', ${pick('feature', 'String', u('account, i % 3', 44))},
    type = 'custom', if(is_app, ${oneOf(['invite_sent', 'plan_upgraded', 'export_finished'], 's, i', 45)},
                        if(url_path = '/signup', 'signup_completed', ${oneOf(['newsletter_subscribed', 'demo_requested'], 's, i', 45)})),
    '')`

const PROPS = `multiIf(
    type = 'click', map('tag', if(cityHash64(s, i, 50) % 10 < 7, 'button', 'a')),
    type = 'query', map('rows', toString(1 + cityHash64(s, i, 51) % 5000), 'ms', toString(15 + cityHash64(s, i, 52) % 2500)),
    type = 'dashboard', map('widgets', toString(3 + cityHash64(s, i, 53) % 10)),
    type = 'feature', map('plan', plan),
    CAST(map(), 'Map(String, String)'))`

const EVENT_COLUMNS =
  'event_id, org_id, site_id, type, name, ts, received_at, anon_id, session_id, user_pid, url_path, url_host, referrer_host, props, browser, browser_version, os, os_version, device_type, is_bot, screen_w, screen_h, locale, tz, country, ip_prefix, utm_source, utm_medium, utm_campaign, utm_term, utm_content, channel, entry_page'

/** Session columns the events repeat. */
const CARRIED =
  's, is_app, bot, signed, account, site_id, url_host, referrer, utm, visit_channel, entry_page, anon_id, session_id, user_pid, plan, browser, browser_version, os, os_version, device_type, screen, locale, tz, country, ip_prefix'

/**
 * Events go into `events` only: the materialized views fill both rollups exactly as they do for
 * the pipeline's inserts. One row per event of each session (ARRAY JOIN); LIMIT stops the
 * session stream once the chunk has its events.
 */
export const INSERT_EVENTS = `INSERT INTO ${DB}.events (${EVENT_COLUMNS})
SELECT
    generateUUIDv4(cityHash64(s, i)) AS event_id,
    {org:String} AS org_id,
    site_id,
    type,
    ${NAME} AS name,
    fromUnixTimestamp64Milli(ts_ms, 'UTC') AS ts,
    fromUnixTimestamp64Milli(ts_ms + 150 + toInt64(cityHash64(s, i, 60) % 2850), 'UTC') AS received_at,
    anon_id, session_id, user_pid,
    ${pathAt('page_no')} AS url_path,
    url_host,
    if(i = 0, referrer, '') AS referrer_host,
    ${PROPS} AS props,
    browser, browser_version, os, os_version, device_type,
    bot AS is_bot,
    toUInt32(screen[1]) AS screen_w, toUInt32(screen[2]) AS screen_h,
    locale, tz, country, ip_prefix,
    -- Tags are in the landing URL only, but the processor stamps a visit's first event's tags and channel, and its
    -- first pageview's path, on every event of the visit: the table holds them on every row, as production does.
    utm[1] AS utm_source, utm[2] AS utm_medium, utm[3] AS utm_campaign, utm[4] AS utm_term, utm[5] AS utm_content,
    visit_channel AS channel,
    entry_page
FROM (
    SELECT ${CARRIED}, type, page_no, toUInt32(pos - 1) AS i,
        -- Events 40 s apart plus up to 35 s of jitter: a session's order is its time order.
        start_ms + (pos - 1) * 40000 + toInt64(floor(${u('s, pos', 61)} * 35000)) AS ts_ms
    FROM (${SESSIONS})
    ARRAY JOIN types AS type, page_nos AS page_no, arrayEnumerate(types) AS pos
)
LIMIT {limit:UInt64}`

/** Query parameters for one chunk of events; sessions are numbered on from the previous chunk's. */
export function chunkParams(o: GenerateOptions, firstSession: number, limit: number, profile: Record<string, unknown>): Record<string, unknown> {
  return {
    ...profile,
    ...shape(o.events),
    app_types_v: APP_TYPES.values,
    app_types_c: APP_TYPES.cum,
    web_types_v: WEB_TYPES.values,
    web_types_c: WEB_TYPES.cum,
    campaign_v: CAMPAIGNS.values,
    campaign_c: CAMPAIGNS.cum,
    utm_share: UTM_SHARE,
    org: o.org,
    web: o.sites.web,
    app: o.sites.app,
    first_day_ms: o.endDayMs - o.days * DAY_MS,
    first_session: firstSession,
    sessions: Math.ceil(limit / MIN_EVENTS_PER_SESSION),
    limit,
  }
}

/** Consent receipts as the demo's visitors give them (analytics, preferences, source), its "no choice" left out. */
const CONSENT = weighted([
  ['1:1:banner', 18],
  ['1:0:banner', 8],
  ['1:1:api', 3],
  ['0:0:banner', 8],
  ['0:1:banner', 3],
  ['0:0:api', 2],
  ['0:0:gpc', 5],
  ['0:0:dnt', 1],
])

export const INSERT_CONSENT = `INSERT INTO ${DB}.consent_log (receipt_id, org_id, site_id, analytics, preferences, source, policy_revision, ts, received_at)
SELECT receipt_id, {org:String}, site_id, choice[1] = '1', choice[2] = '1', choice[3], if(day_index < 40, '2', '3'),
    fromUnixTimestamp64Milli(at_ms, 'UTC'), fromUnixTimestamp64Milli(at_ms + 20 + toInt64(cityHash64(number, 5) % 500), 'UTC')
FROM (
    SELECT
        number,
        generateUUIDv4(number) AS receipt_id,
        if(${u('number', 1)} < 0.85, {web:String}, {app:String}) AS site_id,
        splitByChar(':', ${pick('consent', 'String', u('number', 2))}) AS choice,
        ${pickIndex('day', u('number', 3))} - 1 AS day_index,
        {first_day_ms:Int64} + day_index * ${DAY_MS} + toInt64(floor(${u('number', 4)} * ${DAY_MS})) AS at_ms
    FROM numbers({receipts:UInt64})
)`

/**
 * Parallelism only: both cores generate and insert, and the views run side by side. What the
 * views compute is unchanged. The token is cleared because chDB keeps a query's settings for later ones.
 */
const INSERT_SETTINGS = { max_insert_threads: '2', parallel_view_processing: 1, insert_deduplication_token: '' } as const

export interface GenerateResult {
  events: number
  receipts: number
  /** Seconds: the inserts (views included), then merging every table to its steady state. */
  insertSeconds: number
  mergeSeconds: number
}

/** Generates `events` events in chunks and about one consent receipt per 25 events; throws unless every chunk landed whole. */
export async function generate(client: Warehouse, o: GenerateOptions, log: (line: string) => void): Promise<GenerateResult> {
  const profile = profileParams(o.endDayMs - o.days * DAY_MS, o.days)
  const started = performance.now()
  let written = 0
  let firstSession = 0
  while (written < o.events) {
    const limit = Math.min(o.chunkEvents, o.events - written)
    const params = chunkParams(o, firstSession, limit, profile)
    const t = performance.now()
    await client.command({ query: INSERT_EVENTS, query_params: params, clickhouse_settings: INSERT_SETTINGS })
    written += limit
    firstSession += Number(params.sessions)
    const total = await count(client, `${DB}.events`)
    if (total !== written) throw new Error(`generated ${total} events after a chunk, expected ${written}: the session estimate was too small`)
    log(`  events ${written.toLocaleString('en-US')} / ${o.events.toLocaleString('en-US')} (${((performance.now() - t) / 1000).toFixed(1)} s)`)
  }
  const receipts = Math.max(100, Math.round(o.events / 25))
  await client.command({
    query: INSERT_CONSENT,
    query_params: { ...profile, consent_v: CONSENT.values, consent_c: CONSENT.cum, org: o.org, web: o.sites.web, app: o.sites.app, first_day_ms: o.endDayMs - o.days * DAY_MS, receipts },
    clickhouse_settings: INSERT_SETTINGS,
  })
  const insertSeconds = (performance.now() - started) / 1000
  // Production tables are mostly merged by the time anyone asks about last quarter; merge now so the figures do not depend on timing.
  const merging = performance.now()
  for (const table of ['events', ...Object.keys(ROLLUP_TABLES), 'consent_log']) await client.command({ query: `OPTIMIZE TABLE ${DB}.${table} FINAL` })
  return { events: written, receipts, insertSeconds, mergeSeconds: (performance.now() - merging) / 1000 }
}

async function count(client: Warehouse, table: string): Promise<number> {
  const rs = await client.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })
  const [row] = await rs.json<{ n: string }>()
  return Number(row?.n ?? 0)
}
