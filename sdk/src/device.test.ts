import { describe, expect, test } from 'vitest'
import { device } from './device.js'
import './test-support.js'

describe('device', () => {
  test('reports screen size, locale and time zone, and nothing else', () => {
    expect(device()).toEqual({
      sw: screen.width,
      sh: screen.height,
      l: navigator.language,
      tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
    })
  })
})
