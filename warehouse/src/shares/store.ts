import { type AuditRow, type SharedLinkRow, WAREHOUSE_DATABASE as DB } from '@atspark/schemas'
import type { ClickHouseClient } from '@clickhouse/client'

/** A shared link as read back: its latest version (times as the warehouse writes them, `YYYY-MM-DD hh:mm:ss.mmm` UTC). */
export type SharedLink = Omit<SharedLinkRow, 'version'>

/** Everything the shared-links API reads and writes; the warehouse implementation is below. */
export interface SharedLinkStore {
  /** Writes one version of a link: a new link, or its revocation (same id, higher version). */
  put(row: SharedLinkRow): Promise<void>
  /** The link whose token hashes to `tokenHash`, whatever its org: the token is the only credential. */
  findByTokenHash(tokenHash: string): Promise<SharedLink | undefined>
  /** One link of this org; another org's id is simply not found. */
  find(orgId: string, linkId: string): Promise<SharedLink | undefined>
  /** This org's links, newest first. */
  list(orgId: string, limit: number): Promise<SharedLink[]>
  audit(rows: readonly AuditRow[]): Promise<void>
}

/** Actions the audit log records for shared links: each use (`share_view`, the contract's name) and each admin call. */
export const ShareAuditAction = {
  view: 'share_view',
  create: 'share_create',
  list: 'share_list',
  revoke: 'share_revoke',
} as const
export type ShareAuditAction = (typeof ShareAuditAction)[keyof typeof ShareAuditAction]

const COLUMNS = 'link_id, org_id, site_id, token_hash, label, created_by, created_at, expires_at, revoked_at'

export function warehouseSharedLinkStore(client: ClickHouseClient): SharedLinkStore {
  const select = async (where: string, params: Record<string, unknown>, tail = ''): Promise<SharedLink[]> => {
    // FINAL: only each link's latest version (a revocation) counts, even before the engine merges.
    const rs = await client.query({
      query: `SELECT ${COLUMNS} FROM ${DB}.shared_links FINAL WHERE ${where}${tail}`,
      query_params: params,
      format: 'JSONEachRow',
    })
    return rs.json<SharedLink>()
  }
  return {
    async put(row) {
      await client.insert({ table: `${DB}.shared_links`, values: [row], format: 'JSONEachRow' })
    },
    async findByTokenHash(tokenHash) {
      // Two would mean a hash collision of 256 random bits: refuse both rather than pick one.
      const found = await select('token_hash = {hash:String}', { hash: tokenHash }, ' LIMIT 2')
      return found.length === 1 ? found[0] : undefined
    },
    async find(orgId, linkId) {
      const [found] = await select('org_id = {org:String} AND link_id = {id:String}', { org: orgId, id: linkId }, ' LIMIT 1')
      return found
    },
    async list(orgId, limit) {
      return select('org_id = {org:String}', { org: orgId, limit }, ' ORDER BY created_at DESC, link_id LIMIT {limit:UInt32}')
    },
    async audit(rows) {
      if (rows.length === 0) return
      await client.insert({ table: `${DB}.audit_log`, values: [...rows], format: 'JSONEachRow' })
    },
  }
}
