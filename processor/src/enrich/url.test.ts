import { describe, expect, it } from 'vitest'
import { referrerHost, urlParts } from './url.js'

describe('urlParts', () => {
  it('keeps the lower-case host and the path, drops query and fragment', () => {
    expect(urlParts('https://App.AtSpark.IO/dash/42?token=secret&email=a@b.c#section')).toEqual({
      host: 'app.atspark.io',
      path: '/dash/42',
    })
  })

  it('drops the port and credentials', () => {
    expect(urlParts('http://user:pw@localhost:3000/x')).toEqual({ host: 'localhost', path: '/x' })
  })

  it('gives / for a bare origin', () => {
    expect(urlParts('https://atspark.io')).toEqual({ host: 'atspark.io', path: '/' })
  })

  it('caps the path at 1024 characters', () => {
    expect(urlParts(`https://atspark.io/${'a'.repeat(2000)}`).path).toHaveLength(1024)
  })

  it('returns empty strings when absent, invalid or not a web page', () => {
    for (const u of [undefined, '', 'not a url', '/relative/path', 'file:///Users/alice/report.html', 'about:blank']) {
      expect(urlParts(u), String(u)).toEqual({ host: '', path: '' })
    }
  })
})

describe('referrerHost', () => {
  it('keeps only the host', () => {
    expect(referrerHost('https://WWW.Google.com/search?q=atspark')).toBe('www.google.com')
  })

  it("returns '' when absent or invalid", () => {
    expect(referrerHost()).toBe('')
    expect(referrerHost('')).toBe('')
    expect(referrerHost('garbage')).toBe('')
  })
})

/** What urlParts returned before its fast path: the WHATWG parser for every URL. */
function reference(u: string): { host: string; path: string } {
  try {
    const url = new URL(u)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { host: '', path: '' }
    return { host: url.hostname.toLowerCase(), path: url.pathname.slice(0, 1024) }
  } catch {
    return { host: '', path: '' }
  }
}

describe('urlParts fast path', () => {
  it('agrees with the WHATWG parser on awkward URLs', () => {
    const cases = [
      'http://example.com',
      'https://Example.COM:8443/a/b?q#f',
      'http://example.com:65535/',
      'http://example.com:65536/',
      'http://example.com:0/x',
      'http://1.2.3.4/x',
      'http://1.2.3/x',
      'http://0x7f.1/x',
      'http://example.0x1/',
      'http://example.123/',
      'http://xn--nxasmq6b.com/',
      'http://xn--a.com/',
      'http://a.xn--zz/',
      'http://exa_mple.com/',
      'http://-a.com/',
      'http://a-.com/',
      'http://a..com/',
      'http://a.com./',
      'http://a.com/./b/../c',
      'http://a.com/%2e/b',
      'http://a.com/%2E%2E/b',
      'http://a.com/b/.',
      'http://a.com/b/..',
      'http://a.com/.well-known/x',
      'http://a.com/b..c/d.e',
      'http://a.com/%41%zz%',
      "http://a.com/it's(1)*+,;=:@!$&~",
      'http://a.com/a b',
      'http://a.com/a^b`c{d}|e',
      'http://a.com/a\\b',
      'http://a.com/é',
      'http://a.com?x=1',
      'http://a.com#/path',
      'http://user:pw@a.com/x',
      'http://a.com:80@b.com/x',
      'http:/a.com/x',
      'http:a.com/x',
      'HTTP://a.com/x',
      ' http://a.com/x',
      'http://a.com/x ',
      'http://a\tb.com/x',
      'http://a.com/x\ny',
      'https://localhost/',
      'http://[::1]/x',
      `https://a.com/${'b'.repeat(1500)}`,
    ]
    for (const u of cases) expect(urlParts(u), JSON.stringify(u)).toEqual(reference(u))
  })

  it('agrees with the WHATWG parser on 5,000 generated URLs', { timeout: 30_000 }, () => {
    const pieces = {
      scheme: ['http://', 'https://', 'HTTPS://', 'http:/', 'http:', 'ftp://', 'https:///', ''],
      host: ['a', 'b9', 'com', 'xn--', 'XN--a', '0x', '1', '255', '.', '.', '-', '_', '@', ':', '%41', 'é', ' ', '\t', '[', ']', 'Z'],
      port: ['', '', '', ':', ':80', ':0', ':65535', ':65536', ':99999', ':1a', ':00080'],
      path: ['/', '/', 'a', 'Z', '.', '..', '%2e', '%2E', '%41', '%', ' ', '\t', '\\', '^', '`', '{', '|', "'", 'é', '~', ';', '=', '@', ':', '!', '*'],
      tail: ['', '', '?', '?q=a b', '#', '#x/../y', '? '],
    }
    let seed = 42
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    const pick = (xs: string[]) => xs[rand(xs.length)] ?? ''
    const many = (xs: string[], max: number) => Array.from({ length: rand(max) }, () => pick(xs)).join('')
    for (let i = 0; i < 5_000; i++) {
      const u = pick(pieces.scheme) + (rand(3) ? 'www.' : '') + many(pieces.host, 6) + (rand(2) ? '.com' : '') + pick(pieces.port) + many(pieces.path, 8) + pick(pieces.tail)
      expect(urlParts(u), JSON.stringify(u)).toEqual(reference(u))
      expect(referrerHost(u), JSON.stringify(u)).toBe(reference(u).host)
    }
  })
})
