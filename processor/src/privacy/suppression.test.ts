import type { Envelope } from '@atspark/schemas'
import { describe, expect, it } from 'vitest'
import { pseudonymizer, subjectHash } from '@atspark/runtime'
import { toRecords } from '../pipeline/to-records.js'
import type { ActiveSuppression } from '@atspark/warehouse'
import { SuppressionSet } from './suppression.js'

const PID = 'f'.repeat(64)

describe('SuppressionSet', () => {
  it('suppresses users by user_pid and anons by the sha256 of the anon id, per org', async () => {
    const set = new SuppressionSet(async () => [
      { org_id: 'a', subject_kind: 'user', subject: PID },
      { org_id: 'a', subject_kind: 'anon', subject: subjectHash('anon-1') },
    ])
    await set.refresh()
    expect(set.suppresses({ org_id: 'a', user_pid: PID, anon_id: '' })).toBe(true)
    expect(set.suppresses({ org_id: 'a', user_pid: '', anon_id: 'anon-1' })).toBe(true)
    expect(set.suppresses({ org_id: 'a', user_pid: '', anon_id: 'anon-2' })).toBe(false)
    // Another org's subject with the same values is someone else.
    expect(set.suppresses({ org_id: 'b', user_pid: PID, anon_id: 'anon-1' })).toBe(false)
    expect(set.size).toBe(2)
  })

  it('applies in-process changes at once and lifts them', () => {
    const set = new SuppressionSet(async () => [])
    set.set('a', 'user', PID, true)
    expect(set.has('a', 'user', PID)).toBe(true)
    set.set('a', 'user', PID, false)
    expect(set.has('a', 'user', PID)).toBe(false)
  })

  it('keeps a local change made while a refresh was reading an older view', async () => {
    let release: (rows: ActiveSuppression[]) => void = () => {}
    const set = new SuppressionSet(() => new Promise((resolve) => (release = resolve)))
    const refreshing = set.refresh()
    set.set('a', 'anon', subjectHash('late'), true)
    release([{ org_id: 'a', subject_kind: 'user', subject: PID }])
    await refreshing
    expect(set.has('a', 'anon', subjectHash('late'))).toBe(true)
    expect(set.has('a', 'user', PID)).toBe(true)
  })

  it('lets the warehouse view win for changes it has already seen', async () => {
    let rows: ActiveSuppression[] = []
    const set = new SuppressionSet(async () => rows)
    set.set('a', 'user', PID, true)
    rows = [{ org_id: 'a', subject_kind: 'user', subject: PID }]
    await set.refresh()
    // Another processor lifted it: the next refresh shows it gone, and the old local change does not resurrect it.
    rows = []
    await set.refresh()
    expect(set.has('a', 'user', PID)).toBe(false)
  })

  it('keeps the last known set when a refresh fails', async () => {
    let fail = false
    const set = new SuppressionSet(async () => {
      if (fail) throw new Error('warehouse down')
      return [{ org_id: 'a', subject_kind: 'user', subject: PID }]
    })
    await set.refresh()
    fail = true
    await expect(set.refresh()).rejects.toThrow('warehouse down')
    expect(set.has('a', 'user', PID)).toBe(true)
  })
})

describe('toRecords', () => {
  const envelope = {
    v: 1,
    kind: 'events',
    org_id: 'a',
    site_id: 'web',
    received_at: Date.UTC(2026, 0, 1),
    sent_at: Date.UTC(2026, 0, 1),
    ip_sealed: 'sealed',
    ua: '',
    events: [
      { id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a01', t: 'pageview', ts: Date.UTC(2026, 0, 1), uid: 'alice' },
      { id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a02', t: 'pageview', ts: Date.UTC(2026, 0, 1), a: 'anon-1' },
      { id: '0b6c3f5e-6f53-4b8e-9d3c-2f1a6f0e9a03', t: 'pageview', ts: Date.UTC(2026, 0, 1), a: 'anon-2' },
    ],
  } as unknown as Envelope
  const pseudonymize = pseudonymizer(() => 'secret-a')
  const deps = { geo: { country: () => 'GB' }, pseudonymize, openIp: () => '81.2.69.142' }

  it('drops the events of suppressed subjects before they become records', async () => {
    const suppressions = new SuppressionSet(async () => [
      { org_id: 'a', subject_kind: 'user', subject: pseudonymize('a', 'alice') },
      { org_id: 'a', subject_kind: 'anon', subject: subjectHash('anon-1') },
    ])
    await suppressions.refresh()
    const records = toRecords(envelope, { ...deps, suppressions })
    expect(records.map((r) => (r.table === 'events' ? r.row.anon_id : ''))).toEqual(['anon-2'])
    expect(toRecords(envelope, deps)).toHaveLength(3)
  })

  it('keeps neither country nor prefix for a site with geo precision none', () => {
    const [none] = toRecords(envelope, { ...deps, geoPrecision: () => 'none' })
    expect(none?.row).toMatchObject({ country: '', ip_prefix: '' })
    const [country] = toRecords(envelope, { ...deps, geoPrecision: () => 'country' })
    expect(country?.row).toMatchObject({ country: 'GB', ip_prefix: '81.2.69.0/24' })
  })
})
