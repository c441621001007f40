import { type AuditRow, type PrivacyRequestRow, type SubjectKind, type SuppressionRow, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

/** One row of atspark.suppressions still in force: the processor drops matching events. */
export interface ActiveSuppression {
  org_id: string
  subject_kind: SubjectKind
  subject: string
}

/** How events are matched to a subject, always within one org. */
export interface SubjectMatch {
  column: 'user_pid' | 'anon_id'
  value: string
}

export interface PrivacyRequestOut {
  request_id: string
  kind: string
  subject_kind: string
  subject_hash: string
  actor_key_id: string
  status: string
  created_at: string
  finished_at: string | null
  detail: string
}

/** Everything the privacy API reads and writes; the warehouse implementation is below, unit tests use a fake. */
export interface PrivacyStore {
  audit(rows: readonly AuditRow[]): Promise<void>
  putRequest(row: PrivacyRequestRow): Promise<void>
  listRequests(orgId: string, limit: number): Promise<PrivacyRequestOut[]>
  /** The subject's events in this org, one JSON object text per row, oldest first. */
  exportEvents(orgId: string, match: SubjectMatch): AsyncIterable<string>
  countEvents(orgId: string, match: SubjectMatch): Promise<number>
  deleteEvents(orgId: string, match: SubjectMatch): Promise<void>
  putSuppression(row: SuppressionRow): Promise<void>
  activeSuppressions(): Promise<ActiveSuppression[]>
}

/**
 * Lightweight DELETE, waited for: `mutations_sync = 2` makes it synchronous on every ClickHouse
 * version that has lightweight deletes (newer ones are synchronous by default via
 * `lightweight_deletes_sync`), on chDB and on a server alike.
 */
const DELETE_SETTINGS = { mutations_sync: '2' } as const

export function warehousePrivacyStore(client: ClickHouseClient): PrivacyStore {
  const subjectWhere = (match: SubjectMatch) =>
    // The column name comes from a closed union, never from a request; both values are bound parameters.
    `org_id = {org:String} AND ${match.column === 'user_pid' ? 'user_pid' : 'anon_id'} = {subject:String} AND {subject:String} != ''`
  return {
    async audit(rows) {
      if (rows.length === 0) return
      await client.insert({ table: `${DB}.audit_log`, values: [...rows], format: 'JSONEachRow' })
    },
    async putRequest(row) {
      await client.insert({ table: `${DB}.privacy_requests`, values: [row], format: 'JSONEachRow' })
    },
    async listRequests(orgId, limit) {
      const rs = await client.query({
        query: `SELECT request_id, kind, subject_kind, subject_hash, actor_key_id, status, created_at, finished_at, detail
FROM ${DB}.privacy_requests FINAL WHERE org_id = {org:String} ORDER BY created_at DESC, request_id LIMIT {limit:UInt32}`,
        query_params: { org: orgId, limit },
        format: 'JSONEachRow',
      })
      return rs.json<PrivacyRequestOut>()
    },
    async *exportEvents(orgId, match) {
      const rs = await client.query({
        query: `SELECT * FROM ${DB}.events WHERE ${subjectWhere(match)} ORDER BY ts, event_id`,
        query_params: { org: orgId, subject: match.value },
        format: 'JSONEachRow',
      })
      for await (const rows of rs.stream()) {
        for (const row of rows) yield row.text
      }
    },
    async countEvents(orgId, match) {
      const rs = await client.query({
        query: `SELECT count() AS n FROM ${DB}.events WHERE ${subjectWhere(match)}`,
        query_params: { org: orgId, subject: match.value },
        format: 'JSONEachRow',
      })
      const [row] = await rs.json<{ n: string | number }>()
      return Number(row?.n ?? 0)
    },
    async deleteEvents(orgId, match) {
      await client.command({
        query: `DELETE FROM ${DB}.events WHERE ${subjectWhere(match)}`,
        query_params: { org: orgId, subject: match.value },
        clickhouse_settings: DELETE_SETTINGS,
      })
    },
    async putSuppression(row) {
      await client.insert({ table: `${DB}.suppressions`, values: [row], format: 'JSONEachRow' })
    },
    async activeSuppressions() {
      const rs = await client.query({
        query: `SELECT org_id, subject_kind, subject FROM ${DB}.suppressions FINAL WHERE active`,
        format: 'JSONEachRow',
      })
      return (await rs.json<{ org_id: string; subject_kind: string; subject: string }>()).map((r) => ({
        org_id: r.org_id,
        subject_kind: r.subject_kind as SubjectKind,
        subject: r.subject,
      }))
    },
  }
}
