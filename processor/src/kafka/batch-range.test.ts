import { describe, expect, it } from 'vitest'
import { decodeBatchEnd, dedupToken, encodeBatchEnd, PartitionBatcher } from './batch-range.js'

const msgs = (...offsets: number[]) => offsets.map((o) => ({ offset: String(o) }))

describe('batch ranges', () => {
  it('round-trips the recorded end and ignores foreign metadata', () => {
    expect(decodeBatchEnd(encodeBatchEnd(1234n))).toBe(1234n)
    expect(decodeBatchEnd('')).toBeUndefined()
    expect(decodeBatchEnd(null)).toBeUndefined()
    expect(decodeBatchEnd('something else')).toBeUndefined()
    expect(dedupToken('raw', 3, 10n, 20n)).toBe('raw:3:10-20')
  })

  it('seals everything received as [start, last + 1) in normal running', () => {
    const b = new PartitionBatcher(10n, undefined)
    b.add(msgs(10, 11, 12))
    expect(b.seal()).toEqual({ messages: msgs(10, 11, 12), start: 10n, end: 13n })
    b.advance(13n)
    expect(b.seal()).toBeUndefined()
    b.add(msgs(13))
    expect(b.seal()).toEqual({ messages: msgs(13), start: 13n, end: 14n })
  })

  it('after a crash, re-forms exactly the recorded range even when it arrives in pieces', () => {
    const b = new PartitionBatcher(10n, 15n)
    expect(b.recovering).toBe(true)
    b.add(msgs(10, 11))
    expect(b.seal()).toBeUndefined()
    b.add(msgs(12, 13, 14, 15, 16))
    expect(b.seal()).toEqual({ messages: msgs(10, 11, 12, 13, 14), start: 10n, end: 15n })
    b.advance(15n)
    expect(b.recovering).toBe(false)
    expect(b.seal()).toEqual({ messages: msgs(15, 16), start: 15n, end: 17n })
  })

  it('drops redelivered messages below the start', () => {
    const b = new PartitionBatcher(10n, undefined)
    b.add(msgs(8, 9, 10))
    expect(b.seal()?.messages).toEqual(msgs(10))
  })
})
