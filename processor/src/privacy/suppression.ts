import type { EventRow, SubjectKind } from '@atspark/schemas'
import { subjectHash } from '@atspark/runtime'
import type { ActiveSuppression } from '@atspark/warehouse'

interface OrgSuppressions {
  user: Set<string>
  anon: Set<string>
}

interface LocalChange extends ActiveSuppression {
  seq: number
  active: boolean
}

/**
 * Subjects whose future events the processor drops, per org: users by `user_pid`, anons by the
 * sha256 of their anon id. Loaded from `atspark.suppressions`, refreshed periodically (so every
 * processor converges), and changed at once in-process when this process's privacy API changes it.
 */
export class SuppressionSet {
  private byOrg = new Map<string, OrgSuppressions>()
  private local: LocalChange[] = []
  private seq = 0
  private timer: NodeJS.Timeout | undefined
  private refreshing: Promise<void> | undefined

  constructor(private readonly load: () => Promise<ActiveSuppression[]>) {}

  has(orgId: string, kind: SubjectKind, subject: string): boolean {
    return this.byOrg.get(orgId)?.[kind].has(subject) ?? false
  }

  /** True when the row belongs to a suppressed subject of its org. */
  suppresses(row: Pick<EventRow, 'org_id' | 'user_pid' | 'anon_id'>): boolean {
    const org = this.byOrg.get(row.org_id)
    if (!org) return false
    if (row.user_pid && org.user.has(row.user_pid)) return true
    // Hash only when the org suppresses some anon id at all: the common case costs a map lookup.
    return row.anon_id !== '' && org.anon.size > 0 && org.anon.has(subjectHash(row.anon_id))
  }

  /** Applies a change the caller has already written to the warehouse; it survives a refresh that started before it. */
  set(orgId: string, kind: SubjectKind, subject: string, active: boolean): void {
    this.local.push({ seq: ++this.seq, org_id: orgId, subject_kind: kind, subject, active })
    apply(this.byOrg, orgId, kind, subject, active)
  }

  /** Replaces the set with the warehouse's view, then re-applies local changes made while the query ran. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const startedAt = this.seq
      try {
        const rows = await this.load()
        const next = new Map<string, OrgSuppressions>()
        for (const r of rows) apply(next, r.org_id, r.subject_kind, r.subject, true)
        // Changes up to `startedAt` were written before the query began, so it saw them.
        this.local = this.local.filter((c) => c.seq > startedAt)
        for (const c of this.local) apply(next, c.org_id, c.subject_kind, c.subject, c.active)
        this.byOrg = next
      } finally {
        this.refreshing = undefined
      }
    })()
    return this.refreshing
  }

  /** Refreshes every `intervalMs`; a failed refresh keeps the last known set. */
  start(intervalMs: number, onError: (err: unknown) => void): void {
    this.stop()
    this.timer = setInterval(() => {
      this.refresh().catch(onError)
    }, intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  get size(): number {
    let n = 0
    for (const org of this.byOrg.values()) n += org.user.size + org.anon.size
    return n
  }
}

function apply(map: Map<string, OrgSuppressions>, orgId: string, kind: SubjectKind, subject: string, active: boolean): void {
  let org = map.get(orgId)
  if (!org) {
    if (!active) return
    org = { user: new Set(), anon: new Set() }
    map.set(orgId, org)
  }
  if (active) org[kind].add(subject)
  else org[kind].delete(subject)
}
