import { createLogger } from '@atspark/runtime'
import { describe, expect, it } from 'vitest'
import { humanLogDestination, humanLogLine } from './tty-log.js'

describe('human log lines at a terminal', () => {
  it('turns a pino JSON line into time, level, message and the fields that say something', () => {
    const line = '{"level":30,"time":"2026-12-08T02:06:21.104Z","pid":1906,"hostname":"vm","name":"atspark","events":30162,"sites":["demo","docs"],"msg":"demo traffic seeded"}'
    expect(humanLogLine(line)).toBe('02:06:21 info  demo traffic seeded  events=30162 sites=["demo","docs"]\n')
  })

  it('passes anything that is not JSON through as a line', () => {
    expect(humanLogLine('plain text')).toBe('plain text\n')
  })

  it('keeps the logger’s redaction: an authorization header never reaches the terminal', () => {
    let out = ''
    const logger = createLogger('atspark', 'info', humanLogDestination({ write: (chunk: string) => (out += chunk) }))
    logger.warn({ headers: { authorization: 'Bearer sk_secret' } }, 'refused')
    expect(out).toMatch(/^\d\d:\d\d:\d\d warn {2}refused /)
    expect(out).not.toContain('sk_secret')
  })
})
