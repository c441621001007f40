import { describe, expect, it } from 'vitest'
import { parseUserAgent } from './user-agent.js'

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.127 Safari/537.36'
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
const SAFARI_IPAD =
  'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1'
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
const GOOGLEBOT_SMARTPHONE =
  'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'

describe('parseUserAgent', () => {
  it('parses Chrome on Windows as a desktop, major version only', () => {
    expect(parseUserAgent(CHROME_WINDOWS)).toEqual({
      browser: 'Chrome',
      browser_version: '126',
      os: 'Windows',
      os_version: '10',
      device_type: 'desktop',
      is_bot: false,
    })
  })

  it('parses Safari on iPhone as mobile', () => {
    expect(parseUserAgent(SAFARI_IPHONE)).toEqual({
      browser: 'Mobile Safari',
      browser_version: '17',
      os: 'iOS',
      os_version: '17.5',
      device_type: 'mobile',
      is_bot: false,
    })
  })

  it('parses an iPad as a tablet', () => {
    expect(parseUserAgent(SAFARI_IPAD)).toMatchObject({ os: 'iOS', device_type: 'tablet', is_bot: false })
  })

  it('parses Firefox on Linux as a desktop', () => {
    expect(parseUserAgent(FIREFOX_LINUX)).toMatchObject({ browser: 'Firefox', browser_version: '128', os: 'Ubuntu', device_type: 'desktop' })
  })

  it('flags Googlebot, even when it poses as a phone', () => {
    expect(parseUserAgent(GOOGLEBOT)).toMatchObject({ is_bot: true, device_type: 'bot' })
    expect(parseUserAgent(GOOGLEBOT_SMARTPHONE)).toMatchObject({ is_bot: true, device_type: 'bot' })
  })

  it("reports 'unknown' when nothing parses", () => {
    expect(parseUserAgent('')).toEqual({
      browser: '',
      browser_version: '',
      os: '',
      os_version: '',
      device_type: 'unknown',
      is_bot: false,
    })
  })

  it('returns the cached object for a repeated UA', () => {
    const first = parseUserAgent(CHROME_WINDOWS)
    expect(parseUserAgent(CHROME_WINDOWS)).toBe(first)
    expect(Object.isFrozen(first)).toBe(true)
  })

  it('truncates to 512 characters before parsing and caching', () => {
    const base = FIREFOX_LINUX.padEnd(512, ' x')
    const a = parseUserAgent(`${base}AAAA`)
    const b = parseUserAgent(`${base}BBBB`.repeat(50))
    expect(b).toBe(a)
    expect(a.browser).toBe('Firefox')
  })
})
