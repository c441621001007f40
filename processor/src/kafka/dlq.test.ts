import { describe, expect, it } from 'vitest'
import { dlqMessage, scrubForDlq } from './dlq.js'

const source = { topic: 'raw', partition: 3, offset: '42' }

function record(value: Buffer | null) {
  return JSON.parse(String(dlqMessage({ ...source, value }, 'schema: nope').value)) as { reason: string; value_base64: string | null; removed_fields?: string[] }
}

describe('dlqMessage', () => {
  it('keeps the reason, the source and the bytes for replay', () => {
    const value = Buffer.from('this is not json')
    const r = record(value)
    expect(r).toMatchObject({ reason: 'schema: nope', source, value_base64: value.toString('base64') })
    expect(r.removed_fields).toBeUndefined()
  })

  it('drops a plain client address a legacy producer put in the message', () => {
    const legacy = { v: 1, kind: 'events', org_id: 'o', site_id: 's', ip: '198.51.100.7', ua: 'UA', events: [] }
    const r = record(Buffer.from(JSON.stringify(legacy)))
    const kept = Buffer.from(r.value_base64!, 'base64').toString('utf8')
    expect(kept).not.toContain('198.51.100.7')
    expect(JSON.parse(kept)).toEqual({ v: 1, kind: 'events', org_id: 'o', site_id: 's', ua: 'UA', events: [] })
    expect(r.removed_fields).toEqual(['ip'])
  })

  it('leaves sealed envelopes, non-objects and empty values as they are', () => {
    for (const v of [Buffer.from('{"ip_sealed":"v1.k.x.y.z"}'), Buffer.from('[1,2]'), Buffer.from('"ip"'), null]) {
      expect(scrubForDlq(v)).toEqual({ value: v, removed: [] })
    }
  })
})
