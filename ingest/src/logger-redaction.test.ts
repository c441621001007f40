import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { REDACT_PATHS } from './logger.js'

/** A logger with createLogger's redaction, writing into a string. */
function capture() {
  let out = ''
  const stream = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk)
      done()
    },
  })
  const logger = pino({ level: 'trace', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream)
  return { logger, text: () => out }
}

describe('log redaction of client addresses', () => {
  it('redacts addresses wherever an envelope, request or socket would put them', () => {
    const { logger, text } = capture()
    logger.info({ ip: '203.0.113.7', ip_sealed: 'v1.k.sealed', remoteAddress: '203.0.113.8' }, 'top level')
    logger.info({ envelope: { ip: '203.0.113.9', ip_sealed: 'v1.k.sealed2' }, socket: { remoteAddress: '2001:db8::1' } }, 'nested')
    logger.info({ headers: { 'x-forwarded-for': '198.51.100.1', 'x-real-ip': '198.51.100.2', forwarded: 'for=198.51.100.3' } }, 'headers')
    logger.info({ req: { headers: { 'x-forwarded-for': '198.51.100.4', 'x-real-ip': '198.51.100.5', forwarded: 'for=198.51.100.6' } } }, 'request')
    for (const secret of ['203.0.113.', '2001:db8::1', '198.51.100.', 'v1.k.sealed']) expect(text()).not.toContain(secret)
    expect(text().match(/\[redacted\]/g)).toHaveLength(12)
  })
})
