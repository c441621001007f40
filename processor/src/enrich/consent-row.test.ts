import { ConsentRow } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { toConsentRow } from './consent-row.js'

describe('toConsentRow', () => {
  it('records the choice, source and revision with the clock corrected', () => {
    const row = toConsentRow({
      v: 1,
      kind: 'consent',
      org_id: 'acme',
      site_id: 'web',
      received_at: Date.UTC(2026, 10, 28, 12, 0, 0),
      // The client clock runs 1 h fast: the choice 2 s before sending lands 2 s before receipt.
      receipt: { v: 1, id: '0b5d7c1e-8f0a-4c4e-9d7e-2f1a3b4c5d6e', ts: Date.UTC(2026, 10, 28, 12, 59, 58), sa: Date.UTC(2026, 10, 28, 13, 0, 0), a: false, p: true, src: 'gpc', r: '4' },
    })
    expect(ConsentRow.parse(row)).toEqual({
      receipt_id: '0b5d7c1e-8f0a-4c4e-9d7e-2f1a3b4c5d6e',
      org_id: 'acme',
      site_id: 'web',
      analytics: false,
      preferences: true,
      source: 'gpc',
      policy_revision: '4',
      ts: '2026-11-28 11:59:58.000',
      received_at: '2026-11-28 12:00:00.000',
    })
  })
})
