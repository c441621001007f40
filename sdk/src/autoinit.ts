import { type InitOptions, init } from './index.js'

/**
 * Configures the tracker from the script tag: `data-*` attributes are InitOptions in kebab case
 * (`data-site`, `data-endpoint`, `data-mode`, `data-policy-revision`), and `data-autocapture="false"`
 * or `data-pageviews="false"`, `data-clicks="false"`, `data-outbound="false"` turn autocapture off.
 */
export function initFromScript(script: HTMLOrSVGScriptElement | null): void {
  const data = script?.dataset
  // init() ignores the tag unless both data-site and data-endpoint are present; it reads "false" as false.
  if (data) init({ ...data, autocapture: data.autocapture === 'false' ? false : data } as unknown as InitOptions)
}

/** One call recorded by the snippet: a method name (`track`, `consent.set`, ...) and its arguments. */
export type QueuedCall = [string, unknown[]]

/** Replays calls recorded before the script loaded: `init` ones first, so consent and events made before it count. */
export function replay(api: Record<string, unknown>, calls: QueuedCall[]): void {
  for (const [name, args] of calls.filter((call) => call[0] === 'init').concat(calls)) {
    const [first, second] = String(name).split('.')
    try {
      const owner = api[first!] as Record<string, (...a: unknown[]) => unknown>
      ;(second ? owner[second]! : (owner as unknown as (...a: unknown[]) => unknown))(...args)
    } catch {}
  }
}
