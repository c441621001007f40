import { describe, expect, it } from 'vitest'
import { decodeBatchEnd, encodeBatchEnd, PartitionBatcher } from './batch-range.js'

const msgs = (...offsets: number[]) => offsets.map((o) => ({ offset: String(o) }))

describe('decodeBatchEnd: only the exact form we write', () => {
  it('reads ends of any size, beyond 2^53 too', () => {
    expect(decodeBatchEnd('end=0')).toBe(0n)
    expect(decodeBatchEnd(encodeBatchEnd(9_007_199_254_740_993n))).toBe(9_007_199_254_740_993n)
  })

  it('refuses metadata that merely contains it, or an end that is not digits', () => {
    for (const bad of ['xend=5', 'end=5x', ' end=5', 'end=5\n', 'end=', 'end=-5', 'end=a5', 'END=5', undefined]) {
      expect(decodeBatchEnd(bad), String(bad)).toBeUndefined()
    }
  })
})

describe('PartitionBatcher at the edges of a recorded range', () => {
  it('seals the recorded range as soon as its last offset (end − 1) has arrived, not before', () => {
    const b = new PartitionBatcher(10n, 13n)
    b.add(msgs(10, 11))
    expect(b.seal()).toBeUndefined()
    b.add(msgs(12))
    expect(b.seal()).toEqual({ messages: msgs(10, 11, 12), start: 10n, end: 13n })
  })

  it('keeps the message at the new start when it advances, and reports that start', () => {
    const b = new PartitionBatcher(10n, 12n)
    b.add(msgs(10, 11, 12, 13))
    expect(b.seal()?.end).toBe(12n)
    b.advance(12n)
    expect(b.nextStart).toBe(12n)
    expect(b.recovering).toBe(false)
    expect(b.seal()).toEqual({ messages: msgs(12, 13), start: 12n, end: 14n })
  })

  it('is not recovering without a recorded end, and keeps the message at its start', () => {
    const b = new PartitionBatcher(5n, undefined)
    expect(b.recovering).toBe(false)
    expect(b.nextStart).toBe(5n)
    b.add(msgs(4, 5))
    expect(b.seal()).toEqual({ messages: msgs(5), start: 5n, end: 6n })
  })

  it('compares offsets as numbers, not strings', () => {
    const b = new PartitionBatcher(9n, undefined)
    b.add(msgs(9, 10, 11))
    expect(b.seal()).toEqual({ messages: msgs(9, 10, 11), start: 9n, end: 12n })
    b.advance(10n)
    expect(b.seal()).toEqual({ messages: msgs(10, 11), start: 10n, end: 12n })
  })
})
