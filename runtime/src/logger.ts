import { pino } from 'pino'

/** Paths that may carry personal data or secrets; pino replaces them before a line is written. */
export const REDACT_PATHS = [
  // Client addresses, sealed or not.
  'ip',
  '*.ip',
  'ip_sealed',
  '*.ip_sealed',
  'client_ip',
  '*.client_ip',
  'remoteAddress',
  '*.remoteAddress',
  'headers["x-forwarded-for"]',
  'headers["x-real-ip"]',
  'headers.forwarded',
  'req.headers["x-forwarded-for"]',
  'req.headers["x-real-ip"]',
  'req.headers.forwarded',
  // User agents (fingerprinting entropy).
  'ua',
  '*.ua',
  'headers["user-agent"]',
  'req.headers["user-agent"]',
  // Visitor and user identifiers.
  'uid',
  '*.uid',
  'user_id',
  '*.user_id',
  'user_pid',
  '*.user_pid',
  'anon_id',
  '*.anon_id',
  'session_id',
  '*.session_id',
  // Secrets: credentials, keys, cookies.
  'headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'hmac_secret',
  '*.hmac_secret',
  'api_key',
  '*.api_key',
  'CLICKHOUSE_PASSWORD',
  '*.CLICKHOUSE_PASSWORD',
  'ATSPARK_HMAC_SECRET',
  '*.ATSPARK_HMAC_SECRET',
  'ATSPARK_IP_KEYS',
  '*.ATSPARK_IP_KEYS',
]

export type Logger = pino.Logger

/** One JSON object per line: time (ISO), level, name (the service), pid, hostname, msg, then the fields. */
export function createLogger(name: string, level = 'info', destination?: pino.DestinationStream): Logger {
  const options = { name, level, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }
  return destination ? pino(options, destination) : pino(options)
}
