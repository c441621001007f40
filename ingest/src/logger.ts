import { pino } from 'pino'

/** Paths that may carry personal data; pino replaces them before a line is written. */
export const REDACT_PATHS = [
  'ip',
  '*.ip',
  'ip_sealed',
  '*.ip_sealed',
  'remoteAddress',
  '*.remoteAddress',
  'ua',
  '*.ua',
  'uid',
  '*.uid',
  'user_id',
  '*.user_id',
  'anon_id',
  '*.anon_id',
  'headers["x-forwarded-for"]',
  'headers["x-real-ip"]',
  'headers.forwarded',
  'req.headers["x-real-ip"]',
  'req.headers.forwarded',
  'headers.cookie',
  'headers.authorization',
  'req.headers["x-forwarded-for"]',
  'req.headers.cookie',
  'req.headers.authorization',
]

export type Logger = pino.Logger

export function createLogger(name: string, level = 'info'): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } })
}
