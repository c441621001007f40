import { z } from 'zod'
import { WarehouseTime } from './row.js'

/** Who a privacy request is about: a host-app user id (stored as `user_pid`) or an anonymous analytics id. */
export const SubjectKind = z.enum(['user', 'anon'])
export type SubjectKind = z.infer<typeof SubjectKind>

/** Data-subject rights the privacy API serves: access/portability (export), erasure, restriction/objection (suppress) and its lifting. */
export const PrivacyRequestKind = z.enum(['export', 'erase', 'suppress', 'unsuppress'])
export type PrivacyRequestKind = z.infer<typeof PrivacyRequestKind>

export const PrivacyRequestStatus = z.enum(['running', 'done', 'failed'])
export type PrivacyRequestStatus = z.infer<typeof PrivacyRequestStatus>

const Sha256Hex = z.string().regex(/^([0-9a-f]{64})?$/)

/** One row of `atspark.audit_log`: who did what to whom, with the subject only as a SHA-256. */
export const AuditRow = z.strictObject({
  time: WarehouseTime,
  actor_key_id: z.string().describe("back-office key id, 'unknown' for a missing or unknown key, 'system' for the process itself"),
  org_id: z.string().describe("the key's org; empty when no key was recognized"),
  action: z.string(),
  subject_hash: Sha256Hex.describe('sha256 hex of the subject id; empty when the action has no subject'),
  result: z.string().describe('ok, unauthorized, forbidden, invalid, failed, …'),
  detail: z.string(),
})
export type AuditRow = z.infer<typeof AuditRow>

/** One version of a row of `atspark.privacy_requests` (ReplacingMergeTree on `version`: the highest wins). */
export const PrivacyRequestRow = z.strictObject({
  request_id: z.uuid(),
  org_id: z.string(),
  kind: PrivacyRequestKind,
  subject_kind: SubjectKind,
  subject_hash: Sha256Hex,
  actor_key_id: z.string(),
  status: PrivacyRequestStatus,
  created_at: WarehouseTime,
  finished_at: WarehouseTime.nullable(),
  detail: z.string(),
  version: z.number().int().min(0),
})
export type PrivacyRequestRow = z.infer<typeof PrivacyRequestRow>

/**
 * One version of a row of `atspark.suppressions`. `subject` is the value events carry for the
 * subject in pseudonymous form: `user_pid` (HMAC of the user id) for users, sha256 of the anon id for anons.
 */
export const SuppressionRow = z.strictObject({
  org_id: z.string(),
  subject_kind: SubjectKind,
  subject: z.string().regex(/^[0-9a-f]{64}$/),
  active: z.boolean(),
  updated_at: WarehouseTime,
  version: z.number().int().min(0),
})
export type SuppressionRow = z.infer<typeof SuppressionRow>

/** Query or body of the privacy API: exactly one subject identifier. Other fields (an `org_id`, say) are ignored: the org comes from the key. */
export const PrivacySubject = z
  .object({
    user_id: z.string().min(1).max(256).optional(),
    anon_id: z.string().min(1).max(256).optional(),
  })
  .refine((s) => (s.user_id === undefined) !== (s.anon_id === undefined), { message: 'give exactly one of user_id or anon_id' })
export type PrivacySubject = z.infer<typeof PrivacySubject>

export const ExportFormat = z.enum(['ndjson', 'json'])
export type ExportFormat = z.infer<typeof ExportFormat>
