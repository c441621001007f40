import { type InitOptions, init } from './index.js'

/**
 * Configures the tracker from the script tag: `data-*` attributes are InitOptions in kebab case
 * (`data-site`, `data-endpoint`, `data-mode`, `data-policy-revision`, `data-autocapture="false"`).
 */
export function initFromScript(script: HTMLOrSVGScriptElement | null): void {
  const data = script?.dataset
  // init() ignores the tag unless both data-site and data-endpoint are present.
  if (data) init({ ...data, autocapture: data.autocapture !== 'false' } as InitOptions)
}
