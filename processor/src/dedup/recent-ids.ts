import { WAREHOUSE_DATABASE } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'
import { LRUCache } from 'lru-cache'

/**
 * Event ids written recently, keyed by org (the same id under two orgs is two events). SDK
 * retries reuse ids and land on the same partition, so dropping ids seen here keeps counts
 * exact without FINAL. Bounded by entries; rebuilt from the warehouse when partitions move.
 */
export class RecentEventIds {
  private readonly seen: LRUCache<string, true>

  constructor(
    max: number,
    private readonly windowSeconds: number,
  ) {
    this.seen = new LRUCache({ max })
  }

  private static key(orgId: string, eventId: string): string {
    return `${orgId}\u0000${eventId}`
  }

  has(orgId: string, eventId: string): boolean {
    return this.seen.has(RecentEventIds.key(orgId, eventId))
  }

  add(orgId: string, eventId: string): void {
    this.seen.set(RecentEventIds.key(orgId, eventId), true)
  }

  get size(): number {
    return this.seen.size
  }

  /** Loads the ids the warehouse received within the window, oldest first so the newest survive the bound. */
  async rebuild(client: ClickHouseClient): Promise<number> {
    this.seen.clear()
    const rs = await client.query({
      query: `SELECT org_id, toString(event_id) AS id FROM ${WAREHOUSE_DATABASE}.events
              WHERE received_at >= now64(3) - toIntervalSecond({window:UInt32}) ORDER BY received_at`,
      query_params: { window: this.windowSeconds },
      format: 'JSONCompactEachRow',
    })
    for (const [org, id] of await rs.json<[string, string]>()) this.add(org, id)
    return this.seen.size
  }
}
