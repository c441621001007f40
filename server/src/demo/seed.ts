import type { Bus } from '@atspark/runtime'
import { type BusMessage, WAREHOUSE_DATABASE } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

export interface SeedResult {
  messages: number
  events: number
  receipts: number
  /** False when stopped (shutdown) before the last chunk. */
  complete: boolean
}

/** True when the warehouse holds no events of the org yet: a restart must not seed twice. */
export async function warehouseHasNoEvents(warehouse: ClickHouseClient, orgId: string): Promise<boolean> {
  const rs = await warehouse.query({
    query: `SELECT count() AS n FROM ${WAREHOUSE_DATABASE}.events WHERE org_id = {org:String}`,
    query_params: { org: orgId },
    format: 'JSONEachRow',
  })
  const [row] = await rs.json<{ n: string | number }>()
  return Number(row?.n ?? 0) === 0
}

/**
 * Publishes messages on the bus in chunks, one chunk in flight at a time, so only a chunk is
 * ever held in memory and live traffic keeps its share of the writer. Stops between chunks
 * once `signal` aborts.
 */
export async function publishInChunks(
  bus: Pick<Bus, 'publish'>,
  messages: Iterable<BusMessage>,
  options: { chunkSize?: number; signal?: AbortSignal } = {},
): Promise<SeedResult> {
  const chunkSize = options.chunkSize ?? 500
  const result: SeedResult = { messages: 0, events: 0, receipts: 0, complete: false }
  let chunk: BusMessage[] = []
  const flush = async () => {
    await bus.publish(chunk)
    for (const m of chunk) {
      if (m.kind === 'events') result.events += m.events.length
      else result.receipts++
    }
    result.messages += chunk.length
    chunk = []
  }
  for (const message of messages) {
    if (options.signal?.aborted) return result
    chunk.push(message)
    if (chunk.length >= chunkSize) await flush()
  }
  if (chunk.length > 0 && !options.signal?.aborted) await flush()
  result.complete = !options.signal?.aborted
  return result
}
