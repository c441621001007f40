import { afterEach, describe, expect, it, vi } from 'vitest'
import { subjectHash } from '@atspark/runtime'
import type { ActiveSuppression } from '@atspark/warehouse'
import { SuppressionSet } from './suppression.js'

const PID = 'e'.repeat(64)

afterEach(() => {
  vi.useRealTimers()
})

describe('SuppressionSet edges', () => {
  it('never matches an event by an empty id, even if an empty subject were stored', async () => {
    const set = new SuppressionSet(async () => [
      { org_id: 'a', subject_kind: 'user', subject: '' },
      { org_id: 'a', subject_kind: 'anon', subject: subjectHash('') },
    ])
    await set.refresh()
    expect(set.suppresses({ org_id: 'a', user_pid: '', anon_id: '' })).toBe(false)
  })

  it('matches an anon only by the hash of its id, and a user only by user_pid', async () => {
    const set = new SuppressionSet(async () => [
      { org_id: 'a', subject_kind: 'anon', subject: subjectHash('anon-1') },
      { org_id: 'a', subject_kind: 'user', subject: PID },
    ])
    await set.refresh()
    expect(set.suppresses({ org_id: 'a', user_pid: '', anon_id: subjectHash('anon-1') })).toBe(false)
    expect(set.suppresses({ org_id: 'a', user_pid: 'other', anon_id: 'anon-1' })).toBe(true)
    expect(set.suppresses({ org_id: 'a', user_pid: PID, anon_id: 'anon-2' })).toBe(true)
    expect(set.has('a', 'anon', PID)).toBe(false)
    expect(set.has('a', 'user', subjectHash('anon-1'))).toBe(false)
  })

  it('counts every subject of every org', async () => {
    const set = new SuppressionSet(async () => [
      { org_id: 'a', subject_kind: 'user', subject: PID },
      { org_id: 'a', subject_kind: 'anon', subject: subjectHash('x') },
      { org_id: 'b', subject_kind: 'user', subject: PID },
    ])
    expect(set.size).toBe(0)
    await set.refresh()
    expect(set.size).toBe(3)
    set.set('c', 'user', PID, false)
    expect(set.size).toBe(3)
    set.set('b', 'user', PID, false)
    expect(set.size).toBe(2)
  })

  it('shares one warehouse read between refreshes that overlap, and reads again after', async () => {
    let reads = 0
    let release: (rows: ActiveSuppression[]) => void = () => {}
    const set = new SuppressionSet(() => {
      reads++
      return new Promise((resolve) => (release = resolve))
    })
    const first = set.refresh()
    const second = set.refresh()
    expect(reads).toBe(1)
    release([{ org_id: 'a', subject_kind: 'user', subject: PID }])
    await Promise.all([first, second])
    const third = set.refresh()
    expect(reads).toBe(2)
    release([])
    await third
    expect(set.size).toBe(0)
  })

  it('forgets a local change once a refresh that started after it has read the warehouse', async () => {
    let rows: ActiveSuppression[] = []
    const set = new SuppressionSet(async () => rows)
    set.set('a', 'user', PID, true)
    rows = [{ org_id: 'a', subject_kind: 'user', subject: PID }]
    await set.refresh()
    rows = []
    await set.refresh()
    expect(set.has('a', 'user', PID)).toBe(false)
    // A lift made before the refresh began is the warehouse's to report, not re-applied over it.
    set.set('a', 'user', PID, false)
    rows = [{ org_id: 'a', subject_kind: 'user', subject: PID }]
    await set.refresh()
    expect(set.has('a', 'user', PID)).toBe(true)
  })

  it('refreshes every interval once started, reports failures, and stops', async () => {
    vi.useFakeTimers()
    let rows: ActiveSuppression[] = []
    let fail = false
    let reads = 0
    const errors: unknown[] = []
    const set = new SuppressionSet(async () => {
      reads++
      if (fail) throw new Error('down')
      return rows
    })
    set.start(1_000, (err) => errors.push(err))
    rows = [{ org_id: 'a', subject_kind: 'user', subject: PID }]
    await vi.advanceTimersByTimeAsync(999)
    expect(reads).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(reads).toBe(1)
    expect(set.has('a', 'user', PID)).toBe(true)
    fail = true
    await vi.advanceTimersByTimeAsync(1_000)
    expect(errors).toHaveLength(1)
    expect(set.has('a', 'user', PID)).toBe(true)
    // Starting again replaces the timer rather than adding one.
    fail = false
    set.start(1_000, (err) => errors.push(err))
    await vi.advanceTimersByTimeAsync(1_000)
    expect(reads).toBe(3)
    set.stop()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(reads).toBe(3)
  })
})
