import { type AuditRow, toWarehouseTime } from '@atspark/schemas'

/** An audit_log row for something the process itself did (tenants reload, migration, retention): actor `system`, no subject. */
export function systemAuditRow(action: string, result: string, detail: Record<string, unknown>, now = Date.now()): AuditRow {
  return { time: toWarehouseTime(now), actor_key_id: 'system', org_id: '', action, subject_hash: '', result, detail: JSON.stringify(detail) }
}

/** Actions the audit log records; the privacy API adds one per endpoint. */
export const AuditAction = {
  export: 'privacy.export',
  erase: 'privacy.erase',
  suppress: 'privacy.suppress',
  unsuppress: 'privacy.unsuppress',
  requests: 'privacy.requests',
  tenantsReload: 'tenants.reload',
  migration: 'migration',
  retentionTtl: 'retention.ttl',
  retentionSite: 'retention.site',
} as const
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction]
