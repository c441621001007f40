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

describe('log redaction of identifiers and secrets', () => {
  it('redacts visitor ids, user agents, credentials and key material', () => {
    const { logger, text } = capture()
    logger.info({ anon_id: 'anon-S3KR1T-1', session_id: 'sess-S3KR1T-2', user_id: 'user-S3KR1T-3', ua: 'UA-S3KR1T-4' }, 'ids')
    logger.info({ row: { user_pid: 'pid-S3KR1T-5', anon_id: 'anon-S3KR1T-6' } }, 'row')
    logger.info({ headers: { authorization: 'Bearer sk_S3KR1T-7', cookie: 'c=S3KR1T-8', 'user-agent': 'UA-S3KR1T-9', 'x-api-key': 'S3KR1T-10' } }, 'auth')
    logger.info({ env: { CLICKHOUSE_PASSWORD: 'S3KR1T-11', ATSPARK_HMAC_SECRET: 'S3KR1T-12', ATSPARK_IP_KEYS: 'k1:S3KR1T-13' }, org: { hmac_secret: 'S3KR1T-14' } }, 'config')
    logger.info({ password: 'S3KR1T-15', api_key: 'S3KR1T-16' }, 'top')
    expect(text()).not.toContain('S3KR1T')
    // What operators need stays: the message and non-personal fields.
    logger.info({ partition: 3, count: 12 }, 'poison messages sent to the DLQ')
    expect(text()).toContain('"partition":3')
  })

  it('writes one JSON object per line with an ISO time and the service name', async () => {
    const { createLogger } = await import('./logger.js')
    const lines: string[] = []
    const logger = createLogger('atspark-test', 'info', { write: (line: string) => void lines.push(line) })
    logger.info({ ip: '203.0.113.1', partition: 1 }, 'hello')
    logger.debug('below the level')
    expect(lines).toHaveLength(1)
    const line = JSON.parse(lines[0]!)
    expect(line).toMatchObject({ level: 30, name: 'atspark-test', msg: 'hello', partition: 1, ip: '[redacted]' })
    expect(new Date(line.time).toISOString()).toBe(line.time)
  })
})
