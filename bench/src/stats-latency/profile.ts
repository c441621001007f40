import { parseUserAgent } from '@atspark/processor'
// The demo's distributions (the server package's one export): one source for what "realistic" means here and in `npm start`.
import {
  APP_PAGES,
  BROWSE_PAGES,
  CLICKS,
  DASHBOARDS,
  DEVICES,
  ENTRY_PAGES,
  FEATURES,
  HOUR_WEIGHTS,
  QUERIES,
  SOURCES,
  REGIONS,
  WEEKDAY_WEIGHTS,
} from '@atspark/server/demo-profiles'
import { type WeightedList, weighted } from './weighted.js'

/** Countries the demo leaves out, for a long tail: [country, weight, locale, time zone, rough UTC offset]. */
const TAIL_REGIONS: readonly (readonly [string, number, string, string, number])[] = [
  ['ES', 1.2, 'es-ES', 'Europe/Madrid', 1],
  ['IT', 1.2, 'it-IT', 'Europe/Rome', 1],
  ['MX', 0.8, 'es-MX', 'America/Mexico_City', -6],
  ['PL', 0.9, 'pl-PL', 'Europe/Warsaw', 1],
  ['CH', 0.7, 'de-CH', 'Europe/Zurich', 1],
  ['SG', 0.6, 'en-SG', 'Asia/Singapore', 8],
  ['AT', 0.5, 'de-AT', 'Europe/Vienna', 1],
  ['BE', 0.5, 'nl-BE', 'Europe/Brussels', 1],
  ['TR', 0.5, 'tr-TR', 'Europe/Istanbul', 3],
  ['ID', 0.5, 'id-ID', 'Asia/Jakarta', 7],
  ['DK', 0.4, 'da-DK', 'Europe/Copenhagen', 1],
  ['NO', 0.4, 'nb-NO', 'Europe/Oslo', 1],
  ['FI', 0.4, 'fi-FI', 'Europe/Helsinki', 2],
  ['PT', 0.4, 'pt-PT', 'Europe/Lisbon', 0],
  ['CZ', 0.4, 'cs-CZ', 'Europe/Prague', 1],
  ['IL', 0.4, 'he-IL', 'Asia/Jerusalem', 2],
  ['UA', 0.4, 'uk-UA', 'Europe/Kyiv', 2],
  ['TW', 0.4, 'zh-TW', 'Asia/Taipei', 8],
  ['VN', 0.4, 'vi-VN', 'Asia/Ho_Chi_Minh', 7],
  ['RO', 0.3, 'ro-RO', 'Europe/Bucharest', 2],
  ['CO', 0.3, 'es-CO', 'America/Bogota', -5],
  ['CL', 0.3, 'es-CL', 'America/Santiago', -4],
  ['PH', 0.3, 'en-PH', 'Asia/Manila', 8],
  ['HK', 0.3, 'zh-HK', 'Asia/Hong_Kong', 8],
  ['CN', 0.3, 'zh-CN', 'Asia/Shanghai', 8],
  ['NZ', 0.3, 'en-NZ', 'Pacific/Auckland', 12],
  ['NG', 0.3, 'en-NG', 'Africa/Lagos', 1],
  ['AE', 0.3, 'ar-AE', 'Asia/Dubai', 4],
  ['PK', 0.3, 'en-PK', 'Asia/Karachi', 5],
  ['TH', 0.3, 'th-TH', 'Asia/Bangkok', 7],
  ['MY', 0.3, 'ms-MY', 'Asia/Kuala_Lumpur', 8],
  ['GR', 0.2, 'el-GR', 'Europe/Athens', 2],
  ['EG', 0.2, 'ar-EG', 'Africa/Cairo', 2],
  ['KE', 0.2, 'en-KE', 'Africa/Nairobi', 3],
  ['BD', 0.2, 'bn-BD', 'Asia/Dhaka', 6],
  // Addresses the geo database cannot place.
  ['', 0.5, 'en-US', 'UTC', 0],
]

/** Browsers the demo leaves out, in the same unit as its device weights (share of all human traffic, %). */
const TAIL_AGENTS: readonly (readonly [ua: string, weight: number])[] = [
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', 5],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1', 8],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1', 2],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0', 2],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 2],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0', 1.5],
  ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 1],
  ['Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0', 1],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 YaBrowser/24.10.0.0 Safari/537.36', 0.4],
  ['Mozilla/5.0', 0.3],
]

/** Crawlers that run the script: the demo's plus a headless browser, all flagged by the processor's bot check. */
const BOT_AGENTS: readonly (readonly [ua: string, weight: number])[] = [
  ...(DEVICES.find((d) => d.device === 'bot')?.agents ?? []),
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', 15],
]

const TAIL_FEATURES: readonly (readonly [string, number])[] = [
  ['saved_filters', 0.15],
  ['annotations', 0.08],
  ['slack_alerts', 0.07],
  ['embeds', 0.05],
  ['sso', 0.03],
  ['custom_domains', 0.02],
  ['audit_log_export', 0.01],
]

export interface Agent {
  browser: string
  browser_version: string
  os: string
  os_version: string
  device_type: string
  is_bot: boolean
  screens: string[]
}

/** Every agent as the processor's parser sees it, so browser/OS/device values are exactly what production stores. */
function parsedAgents(agents: readonly (readonly [string, number])[]): [Agent, number][] {
  return agents.map(([ua, weight]) => {
    const info = parseUserAgent(ua)
    const screens = DEVICES.find((d) => d.device === info.device_type)?.screens ?? DEVICES[0]!.screens
    return [{ ...info, screens: info.is_bot ? ['0x0'] : screens.map(([w, h]) => `${w}x${h}`) }, weight]
  })
}

function humanAgents(): [Agent, number][] {
  const demo = DEVICES.filter((d) => d.device !== 'bot').flatMap((d) => {
    const total = d.agents.reduce((sum, [, w]) => sum + w, 0)
    return d.agents.map(([ua, w]) => [ua, (d.weight * w) / total] as const)
  })
  return parsedAgents([...demo, ...TAIL_AGENTS])
}

export interface Region {
  country: string
  locales: string[]
  timezones: string[]
  utcOffset: number
}

function regions(): [Region, number][] {
  const demo = REGIONS.map((r) => [{ country: r.country, locales: [...r.locales], timezones: [...r.timezones], utcOffset: r.utcOffset }, r.weight] as [Region, number])
  const tail = TAIL_REGIONS.map(([country, weight, locale, tz, utcOffset]) => [{ country, locales: [locale], timezones: [tz], utcOffset }, weight] as [Region, number])
  return [...demo, ...tail]
}

/** Day weights over the generated range: the demo's weekly rhythm and a product whose traffic grows. */
export function dayWeights(firstDayMs: number, days: number): [number, number][] {
  return Array.from({ length: days }, (_, i) => [i, WEEKDAY_WEIGHTS[new Date(firstDayMs + i * 86_400_000).getUTCDay()]! * (0.8 + (0.4 * i) / days)])
}

const hostOf = (url: string | undefined): string => (url ? new URL(url).hostname : '')

/** Everything the generator's SQL picks from, as query parameters (names match the {param:Type} placeholders). */
export function profileParams(firstDayMs: number, days: number): Record<string, unknown> {
  const params: Record<string, unknown> = {}
  const put = (name: string, list: WeightedList<unknown>, values: unknown[] = list.values) => {
    params[`${name}_v`] = values
    params[`${name}_c`] = list.cum
  }
  const reg = weighted(regions())
  put('region', reg, reg.values.map((r) => (r as Region).country))
  params.region_locales = reg.values.map((r) => (r as Region).locales)
  params.region_tzs = reg.values.map((r) => (r as Region).timezones)
  params.region_offset = reg.values.map((r) => (r as Region).utcOffset)

  for (const [name, list] of [
    ['agent', weighted(humanAgents())],
    ['bot', weighted(parsedAgents(BOT_AGENTS))],
  ] as const) {
    params[`${name}_c`] = list.cum
    for (const field of ['browser', 'browser_version', 'os', 'os_version', 'device_type'] as const) params[`${name}_${field}`] = list.values.map((a) => a[field])
    params[`${name}_screens`] = list.values.map((a) => a.screens)
  }

  put('day', weighted(dayWeights(firstDayMs, days)))
  put('hour', weighted(HOUR_WEIGHTS.map((w, h) => [h, w] as const)))
  // The demo's untagged sources (its tagged ones are campaigns; the bench tags visits from its own CAMPAIGNS list).
  put('referrer', weighted(SOURCES.filter(([s]) => s.tags === undefined).map(([s, w]) => [hostOf(s.referrer), w] as const)))
  put('entry', weighted(ENTRY_PAGES))
  put('browse', weighted(BROWSE_PAGES))
  put('app_page', weighted(APP_PAGES))
  put('query', weighted(QUERIES))
  put('feature', weighted([...FEATURES, ...TAIL_FEATURES]))
  params.clicks = [...new Set(Object.values(CLICKS).flat())]
  params.dashboard_paths = Object.keys(DASHBOARDS)
  params.dashboard_names = Object.values(DASHBOARDS)
  return params
}
