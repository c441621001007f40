import { ConsentRow } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { receiptHour, toConsentRow } from './consent-row.js'

describe('toConsentRow', () => {
  it('records the choice, source and revision with the clock corrected, in whole hours', () => {
    const row = toConsentRow({
      v: 1,
      kind: 'consent',
      org_id: 'acme',
      site_id: 'web',
      received_at: Date.UTC(2026, 10, 28, 12, 0, 0, 417),
      // The client clock runs 1 h fast: the choice 2 s before sending lands 2 s before receipt, in the hour before.
      receipt: { v: 1, id: '0b5d7c1e-8f0a-4c4e-9d7e-2f1a3b4c5d6e', ts: Date.UTC(2026, 10, 28, 12, 59, 58, 417), sa: Date.UTC(2026, 10, 28, 13, 0, 0, 0), a: false, p: true, src: 'gpc', r: '4' },
    })
    expect(ConsentRow.parse(row)).toEqual({
      receipt_id: '0b5d7c1e-8f0a-4c4e-9d7e-2f1a3b4c5d6e',
      org_id: 'acme',
      site_id: 'web',
      analytics: false,
      preferences: true,
      source: 'gpc',
      policy_revision: '4',
      ts: '2026-11-28 11:00:00.000',
      received_at: '2026-11-28 12:00:00.000',
    })
  })

  it('keeps no minute, second or millisecond of either time, whatever the receipt says', () => {
    const base = Date.UTC(2026, 0, 1)
    for (let i = 0; i < 500; i++) {
      const received = base + i * 7_919_311 + (i % 997)
      const row = toConsentRow({
        v: 1,
        kind: 'consent',
        org_id: 'o',
        site_id: 's',
        received_at: received,
        receipt: { v: 1, id: '0b5d7c1e-8f0a-4c4e-9d7e-2f1a3b4c5d6e', ts: received - (i % 13) * 61_003, sa: received + i * 17, a: true, p: false, src: 'banner', r: '1' },
      })
      for (const t of [row.ts, row.received_at]) expect(t).toMatch(/ \d\d:00:00\.000$/)
      expect(row.received_at).toBe(new Date(receiptHour(received)).toISOString().slice(0, 23).replace('T', ' '))
    }
  })
})
