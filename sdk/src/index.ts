// Public API: init, page, track and the policy's typed events, identify/reset, flush, consent, prefs. One tracker per page.
import type { EventType, SiteMode, WireBatch, WireEvent } from '@atspark/schemas'
import { type ConsentChoice, type ConsentListener, type ConsentState, configure, Gate, gate, get, onChange, prefs, set } from './consent.js'
import { device } from './device.js'
import { clean, createEvent, type Props, stripUrl } from './event.js'
import { ANON, anonId, drop, OFFLINE, SESSION, sessionId, store, storedJson, USER } from './ids.js'
import { beacon, MAX_BODY_BYTES, post } from './transport.js'

export type { ConsentChoice, ConsentListener, ConsentState, Props }
export { SNIPPET } from './snippet.js'

/** Each autocapture part can be turned off; `false` turns off all of them. */
export type Autocapture = { pageviews?: boolean; clicks?: boolean; outbound?: boolean }

export type InitOptions = {
  /** Site write key (public), sent as `k`. */
  site: string
  /** Ingest base URL; batches go to `${endpoint}/v1/batch`, consent receipts to `${endpoint}/v1/consent`. */
  endpoint: string
  /** Default 'opt-in': analytics stays off until `consent.set({ analytics: true })`. */
  mode?: SiteMode
  /** Policy revision (≤ 64 chars, control characters removed) the choice is made under; a new one re-asks visitors who granted analytics, never those who refused. */
  policyRevision?: string
  /** Pageviews (with SPA navigation), `data-atspark` clicks and outbound links; all on by default. */
  autocapture?: boolean | Autocapture
}

/** Equal BATCH_PATH and CONSENT_PATH in @atspark/schemas (a test checks); copied because the SDK may import types only. */
const BATCH_PATH = '/v1/batch'
const CONSENT_PATH = '/v1/consent'

/**
 * Memory queue: a request at the end of the task in which `size` events are waiting, or `wait` ms after the first;
 * at once at `cap` (LIMITS.eventsPerBatch), and at most `cap` wait for consent.
 */
export const QUEUE = { size: 20, wait: 5000, cap: 100 } as const
/** Undelivered events kept in localStorage for the next page load, at most: one batch, so a replay is one request. */
export const OFFLINE_CAP = 100

/** Site key; set by init, and nothing is queued or sent before. */
let siteKey: string | undefined
let batchUrl = ''
let revision: string | undefined
/** The host app's user id: in memory while the choice is pending, in storage only while analytics is granted. */
let userId: string | null | undefined
/** Path of the last pageview, so autocapture never sends the same path twice in a row. */
let lastPath: string | undefined
let queued: WireEvent[] = []
let timer: ReturnType<typeof setTimeout> | 0 = 0
/** Batches handed to fetch and not settled yet: kept offline if the page goes away first. */
const inFlight = new Set<WireEvent[]>()

/**
 * The gate's last answer, for events: a cookie read costs ~6 µs. Re-asked at init, every drain and send, focus and
 * visibility changes (another tab may have changed the choice), so nothing is sent on a stale grant.
 */
let decision: Gate

/** Sending needs the grant; a denial (refusal, withdrawal, DNT/GPC) discards what waited in memory. */
function ready(): boolean {
  decision = gate()
  if (decision === Gate.deny) {
    queued = []
    userId = undefined
  }
  return decision === Gate.grant
}

/** The batch body, rebuilt per attempt so sent_at is fresh; callers have just had ready() say analytics is granted. */
function body(events: WireEvent[]): string {
  // Cleaned as identify() cleans: a value stored by an older SDK (say 'user-123\n') heals instead of costing every batch a 400.
  userId = clean(userId || store(USER) || '', 256) || null
  // Keeps an id given while consent was pending (null only reads).
  store(USER, userId)
  // Read per batch, not per event (see device); ids exist only now that analytics is granted.
  const stamp = { a: anonId(), s: sessionId(), uid: userId || undefined, ...device() }
  // Stamped once: a retry or an offline replay carries the ids and device fields the event was first sent with.
  for (const event of events) for (const key in stamp) (event as Record<string, unknown>)[key] ??= stamp[key as keyof typeof stamp]
  return JSON.stringify({ v: 1, k: siteKey!, sa: Date.now(), c: { a: true, p: get().preferences, r: revision }, e: events } satisfies WireBatch)
}

/** The offline queue (an array, whatever storage held). */
const saved = (): WireEvent[] => [].concat((storedJson(OFFLINE) as never) || [])

/** Keeps undelivered events for the next page load: only while analytics is granted, bounded, one copy per id. */
function keep(events: WireEvent[]): void {
  const list = saved()
  for (const event of events) if (!list.some((kept) => kept.id === event.id)) list.push(event)
  if (events[0] && ready()) store(OFFLINE, JSON.stringify(list.slice(0, OFFLINE_CAP)))
}

/** Sends events (≤ 100), split so no body exceeds 64 KiB; beacon while unloading, else fetch with retries. */
async function send(events: WireEvent[], unloading?: boolean): Promise<unknown> {
  const text = body(events)
  const n = events.length
  // Splits when UTF-8 (1 byte per ASCII unit, ≤ 3 per other) could be over: measuring it with a Blob costs ~0.3 ms in Chromium.
  if (n > 1 && text.length * (/[\x80-\uffff]/.test(text) ? 3 : 1) > MAX_BODY_BYTES) {
    return Promise.all([send(events.slice(0, n / 2), unloading), send(events.slice(n / 2), unloading)])
  }
  if (unloading && beacon(batchUrl, text)) return
  inFlight.add(events)
  // A retry first asks the gate again: nothing is sent once analytics is no longer granted.
  if (await post(batchUrl, () => ready() && body(events), text)) keep(events)
  inFlight.delete(events)
}

/** Hands the memory queue to send() if analytics is granted; otherwise it keeps waiting (or was dropped by ready()). */
async function drain(unloading?: boolean): Promise<void> {
  clearTimeout(timer)
  timer = 0
  // ready() first: a consent change in this tab (onChange) refreshes the decision events use.
  if (ready() && queued[0]) await send(queued.splice(0), unloading)
}

/** The one gate for events: nothing before init, nothing once denied; pending events wait in memory, bounded. */
function enqueue(t: EventType, fields: Pick<WireEvent, 'n' | 'r'>, props?: Props): void {
  if (siteKey && decision !== Gate.deny) {
    const n = queued.push(createEvent(t, fields, props))
    // Bounded while consent is pending: past the cap the newest event is dropped.
    if (n > QUEUE.cap) queued.pop()
    // A fetch costs Chromium's main thread 0.3–1.5 ms whatever its size: a full batch (the wire's limit) goes at once,
    // `size` events at the end of this task, so events tracked in the same task (a burst) share the request.
    if (n >= QUEUE.cap) void drain()
    else if (n === QUEUE.size) {
      clearTimeout(timer)
      timer = setTimeout(drain)
    } else timer ||= setTimeout(drain, QUEUE.wait)
  }
}

/** The page is (maybe) going away: beacon the queue, and keep batches still in retry for the next load. */
function leave(): void {
  void drain(true)
  keep([...inFlight].flat())
}

/** `false` from options, or "false" from a data attribute. */
const off = (value: unknown) => value === false || value === 'false'

/** Starts the tracker; later calls are ignored so a script tag and page code cannot both configure it. */
export function init(options: InitOptions): void {
  const { site, endpoint, autocapture } = options
  if (siteKey || !site || !endpoint) return
  const base = endpoint.replace(/\/+$/, '')
  siteKey = site
  batchUrl = base + BATCH_PATH
  revision = options.policyRevision && clean(options.policyRevision, 64)
  configure(options.mode, revision, site, base + CONSENT_PATH)
  // A grant sends what waited; a refusal drops it (this listener runs before any the page adds).
  onChange(() => drain())
  // From the first moment no analytics id survives without the grant; with it, last page's undelivered events go out.
  if (ready()) {
    const events = saved().slice(0, OFFLINE_CAP)
    drop(OFFLINE)
    if (events[0]) void send(events)
  }
  addEventListener('pagehide', leave)
  // Another tab may have changed the choice: re-read it (a denial drops the queue at once); leave() needs the grant anyway.
  document.addEventListener('visibilitychange', () => ready() && document.visibilityState === 'hidden' && leave())
  addEventListener('focus', ready)

  const on = (part: keyof Autocapture) => !off(autocapture) && !off((autocapture as Autocapture | undefined)?.[part])
  const clicks = on('clicks')
  const outbound = on('outbound')
  if (on('pageviews')) {
    const navigated = () => location.pathname !== lastPath && page()
    for (const method of ['pushState', 'replaceState'] as const) {
      const original = history[method]
      history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
        original.apply(this, args)
        navigated()
      }
    }
    addEventListener('popstate', navigated)
    // A page restored from the back/forward cache is a new visit to the same path.
    addEventListener('pageshow', (event) => {
      if (event.persisted) {
        lastPath = ''
        navigated()
      }
    })
    page()
  }
  // Capture phase: a handler that stops propagation cannot hide the click.
  document.addEventListener(
    'click',
    (event) => {
      const target = event.target as Element
      const marked = clicks && target.closest?.('[data-atspark]')
      const link = (outbound && target.closest?.('a[href]')) as HTMLAnchorElement | null
      if (marked) named('click', (marked as HTMLElement).dataset.atspark!)
      else if (link?.host && link.host !== location.host) enqueue('click', { n: 'outbound' }, { host: link.host })
    },
    true,
  )
}

/** Records a pageview of the current URL without its query and fragment. */
export function page(props?: Props): void {
  lastPath = location.pathname
  enqueue('pageview', { r: document.referrer ? stripUrl(document.referrer) : undefined }, props)
}

/** A named event: custom, click, or one of the policy's types. */
function named(type: EventType, name: string, props?: Props): void {
  const n = name && clean(String(name), 128)
  if (n) enqueue(type, { n }, props)
}

const typed =
  (type: EventType) =>
  (name: string, props?: Props): void =>
    named(type, name, props)

/** A custom event (type `custom`). */
export const track = typed('custom')
/** A query the user ran (type `query`). */
export const query = typed('query')
/** A dashboard the user opened (type `dashboard`). */
export const dashboard = typed('dashboard')
/** A feature the user used (type `feature`). */
export const feature = typed('feature')

/** Attaches the host app's user id (sent as `uid`, pseudonymised server-side) while analytics is granted. */
export function identify(id: string): void {
  // An id that cleans to nothing changes nothing.
  if (id && decision !== Gate.deny) userId = clean(String(id), 256) || userId
}

/** Logout: sends what is queued under the current ids, then forgets the user id and starts a new anon id and session. */
export function reset(): void {
  void drain()
  userId = undefined
  drop(ANON, SESSION, USER)
}

/** Sends what is queued now (if analytics is granted); resolves when the requests and their retries settle. */
export const flush = (): Promise<void> => drain()

export const consent = { get, set, onChange }
export { prefs }
