// Public API: init, page, track, flush, consent. One tracker per page.
import type { SiteMode, WireBatch, WireEvent } from '@atspark/schemas'
import * as consentStore from './consent.js'
import { type ConsentChoice, type ConsentState, Gate } from './consent.js'
import { createEvent, type Props, stripUrl } from './event.js'
import { anonId, sessionId } from './ids.js'
import { createQueue } from './queue.js'
import { beacon, post } from './transport.js'

export type { ConsentChoice, ConsentState, Props }

export type InitOptions = {
  /** Site write key (public), sent as `k`. */
  site: string
  /** Ingest base URL; batches go to `${endpoint}/v1/batch`. */
  endpoint: string
  /** Default 'opt-in': analytics stays off until `consent.set({ analytics: true })`. */
  mode?: SiteMode
  /** Policy revision the visitor's choice is made under; a different revision asks again. */
  policyRevision?: string
  /** Send a pageview right after init (default true). */
  autocapture?: boolean
}

/** Equals BATCH_PATH in @atspark/schemas (a test checks); copied because the SDK may import types only. */
const BATCH_PATH = '/v1/batch'

let config: { k: string; url: string; r?: string } | undefined

/** Sending needs the grant; a denial (refusal, withdrawal, DNT/GPC) discards what was waiting. */
function ready(): boolean {
  const gate = consentStore.gate()
  if (gate === Gate.deny) queue.clear()
  return gate === Gate.grant
}

/** The batch body, rebuilt per attempt so sent_at is fresh; nothing once analytics is no longer granted. */
function body(events: WireEvent[]): string | undefined {
  if (!config || consentStore.gate() !== Gate.grant) return
  const state = consentStore.get()
  const a = anonId()
  const s = sessionId()
  const batch: WireBatch = {
    v: 1,
    k: config.k,
    sa: Date.now(),
    // No `b`: a batch only leaves while no DNT/GPC signal blocks analytics.
    c: { a: state.analytics, p: state.preferences, r: config.r },
    e: events.map((event) => ({ ...event, a, s })),
  }
  return JSON.stringify(batch)
}

async function send(events: WireEvent[], unloading?: boolean): Promise<void> {
  const url = config!.url
  const build = () => body(events)
  const text = unloading && build()
  if (!text || !beacon(url, text)) return post(url, build)
}

const queue = createQueue(ready, send)

function enqueue(...args: Parameters<typeof createEvent>): void {
  if (config && consentStore.gate() !== Gate.deny) queue.push(createEvent(...args))
}

/** Starts the tracker; later calls are ignored so a script tag and page code cannot both configure it. */
export function init(options: InitOptions): void {
  if (config || !options.site || !options.endpoint) return
  consentStore.configure(options.mode, options.policyRevision)
  config = { k: options.site, url: options.endpoint.replace(/\/+$/, '') + BATCH_PATH, r: options.policyRevision || undefined }
  consentStore.gate() // from the first moment: no analytics id survives unless analytics is granted
  addEventListener('pagehide', () => queue.flush(true))
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && queue.flush(true))
  if (options.autocapture !== false) page()
}

/** Records a pageview of the current URL without its query and fragment. */
export function page(props?: Props): void {
  enqueue('pageview', { r: document.referrer ? stripUrl(document.referrer) : undefined }, props)
}

export function track(name: string, props?: Props): void {
  if (name) enqueue('custom', { n: String(name).slice(0, 128) }, props)
}

/** Sends what is queued now (if analytics is granted); resolves when the request and its retries settle. */
export function flush(): Promise<void> {
  return queue.flush()
}

export const consent = {
  get: consentStore.get,
  /** Records the visitor's choice; a grant sends what waited, a refusal drops it and deletes analytics ids. */
  set(choice: ConsentChoice): ConsentState {
    const state = consentStore.set(choice)
    queue.flush()
    return state
  },
}
