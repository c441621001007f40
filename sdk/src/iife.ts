// Entry of atspark.min.js: publishes `window.atspark`, and the script tag may configure it.
import { initFromScript } from './autoinit.js'
import { consent, flush, init, page, track } from './index.js'

const global = window as Window & { atspark?: object }

// Assigned explicitly: a top-level `var` is not global when a loader wraps the script in a function.
// A second copy of the script on the page does nothing, so it cannot double-count.
if (!global.atspark) {
  global.atspark = { init, page, track, flush, consent }
  initFromScript(document.currentScript)
}
