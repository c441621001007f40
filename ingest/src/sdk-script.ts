import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Handler } from 'hono'

/** Serves the built SDK bundle; read once, since it only changes with a deploy. */
export function sdkScriptRoute(): Handler {
  let script: string | undefined
  return (c) => {
    script ??= readFileSync(createRequire(import.meta.url).resolve('@atspark/sdk/atspark.min.js'), 'utf8')
    c.header('Content-Type', 'application/javascript; charset=utf-8')
    c.header('Cache-Control', 'public, max-age=300')
    c.header('Cross-Origin-Resource-Policy', 'cross-origin')
    c.header('X-Content-Type-Options', 'nosniff')
    return c.body(script)
  }
}
