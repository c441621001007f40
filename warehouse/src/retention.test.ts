import { describe, expect, it } from 'vitest'
import { ttlClause, ttlColumn, ttlMonths } from './retention.js'

const EVENTS =
  'MergeTree PARTITION BY toYYYYMM(ts) ORDER BY (org_id, site_id, toDate(ts), type, event_id) TTL toDateTime(ts) + toIntervalMonth(13) SETTINGS ttl_only_drop_parts = 1, index_granularity = 8192'

describe('TTL parsing of system.tables.engine_full', () => {
  it('finds the clause, its months and its column', () => {
    expect(ttlClause(EVENTS)).toBe('toDateTime(ts) + toIntervalMonth(13)')
    expect(ttlMonths(EVENTS)).toBe(13)
    expect(ttlColumn(EVENTS)).toBe('ts')
  })

  it('handles a TTL at the very end and no TTL at all', () => {
    expect(ttlClause('ReplacingMergeTree(version) ORDER BY (org_id, request_id) TTL toDateTime(created_at) + toIntervalMonth(25)')).toBe(
      'toDateTime(created_at) + toIntervalMonth(25)',
    )
    expect(ttlClause('ReplacingMergeTree(version) ORDER BY (org_id, subject_kind, subject) SETTINGS index_granularity = 8192')).toBe('')
    expect(ttlMonths('ReplacingMergeTree ORDER BY version')).toBeUndefined()
  })
})
