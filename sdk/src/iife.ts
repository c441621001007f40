// Entry of atspark.min.js: publishes `window.atspark`, lets the script tag configure it, and replays the snippet's queue.
import { initFromScript, type QueuedCall, replay } from './autoinit.js'
import { consent, dashboard, feature, flush, identify, init, page, prefs, query, reset, track } from './index.js'

const global = window as unknown as { atspark?: Record<string, unknown> }
const stub = global.atspark as { q?: QueuedCall[] } | undefined

// Assigned explicitly: a top-level `var` is not global when a loader wraps the script in a function.
// A second copy of the script finds the real API (no `q`) and does nothing, so it cannot double-count.
if (!stub || stub.q) {
  const api = { init, page, track, query, dashboard, feature, identify, reset, flush, consent, prefs }
  global.atspark = api
  initFromScript(document.currentScript)
  if (stub?.q) replay(api, stub.q)
}
