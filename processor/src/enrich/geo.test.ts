import { beforeAll, describe, expect, it } from 'vitest'
import { type Geo, openGeo } from './geo.js'

describe('openGeo with the npm-shipped database', () => {
  let geo: Geo
  beforeAll(async () => {
    geo = await openGeo()
  })

  it('finds countries for public IPv4 and IPv6 addresses', () => {
    expect(geo.country('8.8.8.8')).toBe('US')
    expect(geo.country('81.2.69.142')).toBe('GB')
    expect(geo.country('2001:4860:4860::8888')).toBe('US')
  })

  it('looks up IPv4-mapped IPv6 as IPv4', () => {
    expect(geo.country('::ffff:81.2.69.142')).toBe('GB')
  })

  it("returns '' for private, loopback and invalid addresses", () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.1', '::1', 'fe80::1', 'fd00::1', '', 'not-an-ip']) {
      expect(geo.country(ip), ip).toBe('')
    }
  })
})

describe('openGeo with a bad path', () => {
  it('rejects', async () => {
    await expect(openGeo('/nonexistent/geo.mmdb')).rejects.toThrow()
  })
})
