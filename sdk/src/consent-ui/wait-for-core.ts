// Either script may load first: wait until the core's consent API exists.
import { type ConsentApi, findConsentApi } from './consent-api.js'

const POLL_MS = 100
/** How long after `load` an async core may still arrive; later than that it is not coming. */
export const GIVE_UP_AFTER_LOAD_MS = 10_000

export function whenCoreReady(ready: (api: ConsentApi) => void): void {
  let done = false
  const stop = () => {
    done = true
    clearInterval(timer)
    document.removeEventListener('DOMContentLoaded', check)
    removeEventListener('load', onLoad)
  }
  const check = () => {
    const api = findConsentApi(window)
    if (done || !api) return
    stop()
    ready(api)
  }
  const onLoad = () => {
    check()
    setTimeout(stop, GIVE_UP_AFTER_LOAD_MS)
  }
  // Polling as well as events: the core may be injected by a tag manager with no event of its own.
  const timer = setInterval(check, POLL_MS)
  document.addEventListener('DOMContentLoaded', check)
  if (document.readyState === 'complete') onLoad()
  else addEventListener('load', onLoad)
  check()
}

/** Runs `ready` once <body> exists: a script in <head> runs before it does. */
export function whenBodyReady(ready: () => void): void {
  if (document.body) ready()
  else document.addEventListener('DOMContentLoaded', ready)
}
