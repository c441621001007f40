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
