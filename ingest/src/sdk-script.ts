import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Handler } from 'hono'

/** The SDK bundles ingest serves, by file name under /sdk/. */
export const SDK_BUNDLES = ['atspark.min.js', 'atspark-consent.min.js'] as const
export type SdkBundle = (typeof SDK_BUNDLES)[number]

/** Serves a built SDK bundle; read once, since it only changes with a deploy. */
export function sdkScriptRoute(bundle: SdkBundle): Handler {
  let script: string | undefined
  return (c) => {
    script ??= readFileSync(createRequire(import.meta.url).resolve(`@atspark/sdk/${bundle}`), 'utf8')
    c.header('Content-Type', 'application/javascript; charset=utf-8')
    c.header('Cache-Control', 'public, max-age=300')
    c.header('Cross-Origin-Resource-Policy', 'cross-origin')
    c.header('X-Content-Type-Options', 'nosniff')
    return c.body(script)
  }
}
