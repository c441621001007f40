import { type EventRow, fromWarehouseTime, toWarehouseTime, type VISIT_COLUMNS } from '@atspark/schemas'
import type { WarehouseRecord, WriteRecords } from '@atspark/warehouse'
import { LRUCache } from 'lru-cache'
import { WrittenVisits } from './written-visits.js'

export type VisitValues = Pick<EventRow, (typeof VISIT_COLUMNS)[number]>

/** A visit's identity: session ids are random per tab, but two orgs (or sites) may send the same one. */
export interface VisitKey {
  org_id: string
  site_id: string
  session_id: string
}

/** The stored visits among `keys`, by visitKey(); asked once per batch for the sessions memory does not know. */
export type VisitLookup = (keys: readonly VisitKey[], window: { from: string; to: string }) => Promise<Map<string, VisitValues>>
/** The visits with events stored from `since` (warehouse time) on: rebuilds the filter of written visits. */
export type StoredVisits = (since: string) => Promise<VisitKey[]>

/** How far around a batch's events a stored visit is looked for: a visit's events span minutes, late ones (offline queues) days. */
export const VISIT_LOOKUP_DAYS = 2
const DAY_MS = 86_400_000
/** A rebuild covers a day more than a lookup reaches, so coverage still reaches back far enough as generations rotate. */
const REBUILD_MS = (VISIT_LOOKUP_DAYS + 1) * DAY_MS

export interface VisitStitcherOptions {
  /** Visits remembered at most (PROCESSOR_VISIT_CACHE_MAX); the one used longest ago goes first. */
  max: number
  /** A visit unused this long is forgotten (a later event of it is looked up in the warehouse). */
  idleMs?: number
  lookup: VisitLookup
  /** Without it no visit is ever known to be new: every visit memory lacks is looked up. */
  stored?: StoredVisits
  observe?: { lookedUp(sessions: number, found: number, seconds: number): void; surelyNew(sessions: number): void }
  /** The filter of written visits (tests pass a small one). */
  written?: WrittenVisits
}

/** SDK sessions end after 30 idle minutes; an hour keeps a visit through a pause without holding it all day. */
export const VISIT_IDLE_MS = 3_600_000

export function visitKey(k: VisitKey): string {
  return `${k.org_id}\u0000${k.site_id}\u0000${k.session_id}`
}

/** (ts, event_id) order; ts is the warehouse's fixed-width text, and ids compare as the migration's toString(event_id). */
function before(a: EventRow, b: EventRow): boolean {
  if (a.ts !== b.ts) return a.ts < b.ts
  return a.event_id.toLowerCase() < b.event_id.toLowerCase()
}

function valuesOf(first: EventRow, entryPage: string): VisitValues {
  return {
    channel: first.channel,
    utm_source: first.utm_source,
    utm_medium: first.utm_medium,
    utm_campaign: first.utm_campaign,
    utm_term: first.utm_term,
    utm_content: first.utm_content,
    entry_page: entryPage,
  }
}

function firstPageview(rows: readonly EventRow[]): EventRow | undefined {
  let first: EventRow | undefined
  for (const r of rows) if (r.type === 'pageview' && (!first || before(r, first))) first = r
  return first
}

/** What a batch taught about its visits; remembered once the batch is written, so a failed insert teaches nothing. */
export type LearnedVisits = Map<string, VisitValues>

/**
 * Stamps each event that has a session_id with its visit's values: the visit's first event's channel and utm_*,
 * and the url_path of its first pageview as entry_page. A visit already known (in memory, else in the warehouse)
 * keeps the values written first, so a late event (an offline queue's) takes them too; a known visit without an
 * entry_page takes this batch's first pageview, for this and later events. A visit unknown everywhere starts in
 * this batch: its first event by (ts, event_id) and first pageview in the batch give the values for all its events.
 */
export class VisitStitcher {
  private readonly known: LRUCache<string, VisitValues>
  private readonly written: WrittenVisits

  constructor(private readonly options: VisitStitcherOptions) {
    this.known = new LRUCache({ max: options.max, ttl: options.idleMs ?? VISIT_IDLE_MS, updateAgeOnGet: true })
    this.written = options.written ?? new WrittenVisits()
  }

  get size(): number {
    return this.known.size
  }

  /** Forgets every visit (partitions moved: another processor may have written them meanwhile); all are looked up until `rebuild`. */
  clear(): void {
    this.known.clear()
    this.written.reset()
  }

  /**
   * Forgets every visit, then learns which visits the warehouse holds events of from three days back, so a visit
   * absent from them (and from what is written next) is new without asking: at start, and when partitions move.
   */
  async rebuild(now = Date.now()): Promise<number> {
    this.clear()
    if (!this.options.stored) return 0
    const since = now - REBUILD_MS
    const keys = await this.options.stored(toWarehouseTime(since))
    for (const k of keys) this.written.add(visitKey(k), now)
    this.written.cover(since)
    return keys.length
  }

  /** Sets the visit columns of the records' events in place; one warehouse lookup at most, for the visits memory lacks. */
  async stamp(records: readonly WarehouseRecord[]): Promise<LearnedVisits> {
    const visits = new Map<string, EventRow[]>()
    for (const r of records) {
      if (r.table !== 'events' || r.row.session_id === '') continue
      const key = visitKey(r.row)
      const rows = visits.get(key)
      if (rows) rows.push(r.row)
      else visits.set(key, [r.row])
    }
    const learned: LearnedVisits = new Map()
    if (visits.size === 0) return learned
    const known = new Map<string, VisitValues>()
    const unknown: EventRow[] = []
    let surelyNew = 0
    for (const [key, rows] of visits) {
      const values = this.known.get(key)
      if (values) {
        known.set(key, values)
        continue
      }
      let from = (rows[0] as EventRow).ts
      for (const r of rows) if (r.ts < from) from = r.ts
      // Never written within the lookup's reach: a lookup would find nothing.
      if (this.written.surelyAbsent(key, fromWarehouseTime(from) - VISIT_LOOKUP_DAYS * DAY_MS)) surelyNew++
      else unknown.push(rows[0] as EventRow)
    }
    if (surelyNew > 0) this.options.observe?.surelyNew(surelyNew)
    if (unknown.length > 0) for (const [key, values] of await this.lookUp(unknown, visits)) known.set(key, values)

    for (const [key, rows] of visits) {
      let values = known.get(key)
      if (!values || values.entry_page === '') {
        const entry = firstPageview(rows)?.url_path ?? ''
        if (values) values = { ...values, entry_page: entry }
        else {
          let first = rows[0] as EventRow
          for (const r of rows) if (before(r, first)) first = r
          values = valuesOf(first, entry)
        }
      }
      learned.set(key, values)
      for (const row of rows) Object.assign(row, values)
    }
    return learned
  }

  /** Keeps what a written batch taught; every visit of it is now stored. */
  remember(learned: LearnedVisits, now = Date.now()): void {
    for (const [key, values] of learned) {
      this.known.set(key, values)
      this.written.add(key, now)
    }
  }

  private async lookUp(unknown: readonly EventRow[], visits: Map<string, EventRow[]>): Promise<Map<string, VisitValues>> {
    let from = ''
    let to = ''
    for (const first of unknown) {
      for (const r of visits.get(visitKey(first)) ?? []) {
        if (from === '' || r.ts < from) from = r.ts
        if (r.ts > to) to = r.ts
      }
    }
    const started = performance.now()
    const found = await this.options.lookup(unknown, { from, to })
    this.options.observe?.lookedUp(unknown.length, found.size, (performance.now() - started) / 1000)
    return found
  }
}

/** A warehouse write that stamps visit values first and remembers them once the insert is acknowledged. */
export function withVisitAttribution(write: WriteRecords, visits: VisitStitcher): WriteRecords {
  return async (records, dedupToken) => {
    const learned = await visits.stamp(records)
    await write(records, dedupToken)
    visits.remember(learned)
  }
}
