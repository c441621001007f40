import { WAREHOUSE_DATABASE } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

/**
 * Event ids written recently, keyed by org (the same id under two orgs is two events). SDK
 * retries reuse ids and land on the same partition, so dropping ids seen here keeps counts
 * exact without FINAL. Bounded by entries; rebuilt from the warehouse when partitions move.
 *
 * At most `max` ids; when full, the id added longest ago goes first (adding an id again counts as
 * adding it now), and `has` changes no order: what an LRU cache keyed by id and bumped only on set
 * would keep. Per event it is two Map lookups on strings JSON.parse already made, with no key
 * built and no list node relinked: ids sit in per-org maps, and the add order in a queue of
 * parallel arrays whose stale entries (ids added again later) are skipped when they come up.
 */
export class RecentEventIds {
  /** org → event id → the sequence number of its latest add. */
  private byOrg = new Map<string, Map<string, number>>()
  private count = 0
  private seq = 0
  /** Adds, oldest first from `head`: org, id and the sequence number each add was given. */
  private queueOrgs: string[] = []
  private queueIds: string[] = []
  private queueSeqs: number[] = []
  private head = 0

  constructor(
    private readonly max: number,
    private readonly windowSeconds: number,
  ) {}

  has(orgId: string, eventId: string): boolean {
    return this.byOrg.get(orgId)?.has(eventId) ?? false
  }

  add(orgId: string, eventId: string): void {
    let ids = this.byOrg.get(orgId)
    if (!ids) {
      ids = new Map()
      this.byOrg.set(orgId, ids)
    }
    const seq = ++this.seq
    if (!ids.has(eventId)) this.count++
    ids.set(eventId, seq)
    this.queueOrgs.push(orgId)
    this.queueIds.push(eventId)
    this.queueSeqs.push(seq)
    while (this.count > this.max) this.evictOldest()
    // The queue's head part (evicted) and stale entries (ids added again) are dropped now and then: amortised O(1) per add.
    const queued = this.queueSeqs.length - this.head
    if ((this.head > 4_096 && this.head * 2 > this.queueSeqs.length) || queued > 2 * this.count + 4_096) this.compact()
  }

  get size(): number {
    return this.count
  }

  clear(): void {
    this.byOrg = new Map()
    this.count = 0
    this.queueOrgs = []
    this.queueIds = []
    this.queueSeqs = []
    this.head = 0
  }

  private evictOldest(): void {
    for (;;) {
      const i = this.head++
      const orgId = this.queueOrgs[i] as string
      const ids = this.byOrg.get(orgId)
      const eventId = this.queueIds[i] as string
      // Skip an add that a later add of the same id superseded: that id is younger than this entry says.
      if (!ids || ids.get(eventId) !== this.queueSeqs[i]) continue
      ids.delete(eventId)
      if (ids.size === 0) this.byOrg.delete(orgId)
      this.count--
      return
    }
  }

  /** Keeps only the live entries of the queue, in order. */
  private compact(): void {
    const orgs: string[] = []
    const ids: string[] = []
    const seqs: number[] = []
    for (let i = this.head; i < this.queueSeqs.length; i++) {
      const orgId = this.queueOrgs[i] as string
      const eventId = this.queueIds[i] as string
      const seq = this.queueSeqs[i] as number
      if (this.byOrg.get(orgId)?.get(eventId) !== seq) continue
      orgs.push(orgId)
      ids.push(eventId)
      seqs.push(seq)
    }
    this.queueOrgs = orgs
    this.queueIds = ids
    this.queueSeqs = seqs
    this.head = 0
  }

  /** Loads the ids the warehouse received within the window, oldest first so the newest survive the bound. */
  async rebuild(client: ClickHouseClient): Promise<number> {
    this.clear()
    const rs = await client.query({
      query: `SELECT org_id, toString(event_id) AS id FROM ${WAREHOUSE_DATABASE}.events
              WHERE received_at >= now64(3) - toIntervalSecond({window:UInt32}) ORDER BY received_at`,
      query_params: { window: this.windowSeconds },
      format: 'JSONCompactEachRow',
    })
    for (const [org, id] of await rs.json<[string, string]>()) this.add(org, id)
    return this.count
  }
}

/** An events row's identity for deduplication; other tables' rows have none. */
interface Deduplicable {
  table: string
  row: unknown
}

/**
 * The records of one write without events already written (per `recent`) or repeated inside the write
 * (a retry can land beside its original before either is written), and how many were dropped.
 */
export function withoutSeenEvents<R extends Deduplicable>(records: readonly R[], recent: RecentEventIds): { kept: R[]; duplicates: number } {
  // org → event ids of this write.
  const inWrite = new Map<string, Set<string>>()
  const kept: R[] = []
  let duplicates = 0
  for (const record of records) {
    if (record.table === 'events') {
      const { org_id: orgId, event_id: eventId } = record.row as { org_id: string; event_id: string }
      let ids = inWrite.get(orgId)
      if (!ids) {
        ids = new Set()
        inWrite.set(orgId, ids)
      }
      if (ids.has(eventId) || recent.has(orgId, eventId)) {
        duplicates++
        continue
      }
      ids.add(eventId)
    }
    kept.push(record)
  }
  return { kept, duplicates }
}

/** Remembers the events of a write that succeeded. */
export function rememberWritten(records: readonly Deduplicable[], recent: RecentEventIds): void {
  for (const r of records) {
    if (r.table !== 'events') continue
    const { org_id: orgId, event_id: eventId } = r.row as { org_id: string; event_id: string }
    recent.add(orgId, eventId)
  }
}
