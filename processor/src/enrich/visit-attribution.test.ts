import { type Channel, type EventRow, exampleEventRow } from '@atspark/schemas'
import type { WarehouseRecord } from '@atspark/warehouse'
import { describe, expect, it } from 'vitest'
import { type VisitKey, type VisitLookup, VisitStitcher, type VisitValues, visitKey, withVisitAttribution } from './visit-attribution.js'
import { WrittenVisits } from './written-visits.js'

let seq = 0
/** An events row as toEventRows makes it: the event's own channel and utm_*, entry_page ''. */
function row(org: string, session: string, second: number, type: EventRow['type'], path: string, own: Partial<VisitValues> = {}): EventRow {
  seq++
  return exampleEventRow({
    event_id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    org_id: org,
    type,
    ts: `2026-12-01 10:00:${String(second).padStart(2, '0')}.000`,
    received_at: '2026-12-01 10:01:00.000',
    anon_id: 'a1',
    session_id: session,
    url_path: path,
    channel: 'Internal',
    ...own,
  })
}

const events = (...rows: EventRow[]): WarehouseRecord[] => rows.map((r) => ({ table: 'events', row: r }))
const visitOf = (r: EventRow): VisitValues => ({
  channel: r.channel,
  utm_source: r.utm_source,
  utm_medium: r.utm_medium,
  utm_campaign: r.utm_campaign,
  utm_term: r.utm_term,
  utm_content: r.utm_content,
  entry_page: r.entry_page,
})
const tags = (channel: Channel, utm_source = '', utm_campaign = ''): Partial<VisitValues> => ({ channel, utm_source, utm_medium: utm_source ? 'm' : '', utm_campaign })
const visit = (channel: Channel | '', utm_source: string, utm_campaign: string, entry_page: string): VisitValues => ({
  channel,
  utm_source,
  utm_medium: utm_source ? 'm' : '',
  utm_campaign,
  utm_term: '',
  utm_content: '',
  entry_page,
})

/** A warehouse stand-in holding `stored` visits; records every lookup's keys and window. */
function storedVisits(stored: Record<string, VisitValues> = {}) {
  const calls: { keys: VisitKey[]; window: { from: string; to: string } }[] = []
  const lookup: VisitLookup = async (keys, window) => {
    calls.push({ keys: [...keys], window })
    const found = new Map<string, VisitValues>()
    for (const k of keys) {
      const v = stored[visitKey(k)]
      if (v) found.set(visitKey(k), v)
    }
    return found
  }
  return { lookup, calls }
}

/** Stamps and remembers, as a successful write does. */
async function written(stitcher: VisitStitcher, records: WarehouseRecord[]): Promise<void> {
  stitcher.remember(await stitcher.stamp(records))
}

describe('VisitStitcher', () => {
  it("stamps every event of a new visit with its first event's channel and utm_*, and its first pageview as entry_page", async () => {
    const { lookup } = storedVisits()
    const stitcher = new VisitStitcher({ max: 100, lookup })
    // Out of order in the batch: the click at :01 is the first event, the pageview at :02 the first pageview.
    const rows = [
      row('acme', 's1', 3, 'pageview', '/pricing', tags('Internal')),
      row('acme', 's1', 1, 'click', '/promo', tags('Email', 'newsletter', 'spring')),
      row('acme', 's1', 2, 'pageview', '/landing', tags('Internal')),
    ]
    await written(stitcher, events(...rows))
    expect(rows.map(visitOf)).toEqual([1, 2, 3].map(() => visit('Email', 'newsletter', 'spring', '/landing')))
  })

  it('breaks a tie on ts by event id', async () => {
    const stitcher = new VisitStitcher({ max: 100, lookup: storedVisits().lookup })
    const later = row('acme', 's1', 5, 'pageview', '/b', tags('Direct'))
    const earlier = row('acme', 's1', 5, 'pageview', '/a', tags('Referral'))
    earlier.event_id = '00000000-0000-4000-8000-000000000000'
    await written(stitcher, events(later, earlier))
    expect([later, earlier].map(visitOf)).toEqual([visit('Referral', '', '', '/a'), visit('Referral', '', '', '/a')])
  })

  it('keeps two orgs (and two sites) with the same site and session ids apart', async () => {
    const { lookup, calls } = storedVisits()
    const stitcher = new VisitStitcher({ max: 100, lookup })
    const acme = row('acme', 's1', 2, 'pageview', '/acme', tags('Email', 'newsletter'))
    const beta = row('beta', 's1', 1, 'pageview', '/beta', tags('Organic Search'))
    const docs = { ...row('acme', 's1', 0, 'pageview', '/docs', tags('Referral')), site_id: 'docs' }
    await written(stitcher, events(acme, beta, docs))
    expect(calls.map((c) => c.keys.length)).toEqual([3])
    expect([acme, beta, docs].map(visitOf)).toEqual([visit('Email', 'newsletter', '', '/acme'), visit('Organic Search', '', '', '/beta'), visit('Referral', '', '', '/docs')])
    // A later batch of each visit takes its own visit's values, from memory.
    const next = [row('acme', 's1', 9, 'click', '/x'), row('beta', 's1', 9, 'click', '/y'), { ...row('acme', 's1', 9, 'click', '/z'), site_id: 'docs' }]
    await written(stitcher, events(...next))
    expect(next.map(visitOf)).toEqual([visit('Email', 'newsletter', '', '/acme'), visit('Organic Search', '', '', '/beta'), visit('Referral', '', '', '/docs')])
    expect(calls).toHaveLength(1)
  })

  it('leaves events without a session_id and other tables as they are', async () => {
    const { lookup, calls } = storedVisits()
    const stitcher = new VisitStitcher({ max: 100, lookup })
    const solo = row('acme', '', 1, 'pageview', '/solo', tags('Referral', 'blog'))
    const consent = { table: 'consent_log', row: { receipt_id: 'r' } } as unknown as WarehouseRecord
    await written(stitcher, [...events(solo), consent])
    expect(visitOf(solo)).toEqual(visit('Referral', 'blog', '', ''))
    expect(calls).toEqual([])
    expect(stitcher.size).toBe(0)
  })

  it('asks the warehouse once per batch, for the unknown visits only, within the window of their events', async () => {
    const stored = { [visitKey({ org_id: 'acme', site_id: 'web', session_id: 'old' })]: visit('Paid Search', 'google', 'brand', '/start') }
    const { lookup, calls } = storedVisits(stored)
    const stitcher = new VisitStitcher({ max: 100, lookup })
    await written(stitcher, events(row('acme', 'mem', 30, 'pageview', '/m', tags('Direct'))))
    calls.length = 0
    const rows = [row('acme', 'old', 40, 'click', '/later', tags('Direct')), row('acme', 'new', 20, 'pageview', '/n', tags('Direct')), row('acme', 'mem', 10, 'click', '/q')]
    await written(stitcher, events(...rows))
    expect(calls).toEqual([
      {
        keys: [rows[0], rows[1]].map((r) => expect.objectContaining({ org_id: 'acme', site_id: 'web', session_id: r?.session_id })),
        window: { from: '2026-12-01 10:00:20.000', to: '2026-12-01 10:00:40.000' },
      },
    ])
    expect(rows.map(visitOf)).toEqual([visit('Paid Search', 'google', 'brand', '/start'), visit('Direct', '', '', '/n'), visit('Direct', '', '', '/m')])
    // Found once, then remembered: a third batch asks nothing.
    calls.length = 0
    const third = row('acme', 'old', 50, 'pageview', '/third')
    await written(stitcher, events(third))
    expect(calls).toEqual([])
    expect(visitOf(third)).toEqual(visit('Paid Search', 'google', 'brand', '/start'))
  })

  it('gives a late event (older than the visit\'s first) the values written first', async () => {
    const stitcher = new VisitStitcher({ max: 100, lookup: storedVisits().lookup })
    await written(stitcher, events(row('acme', 's1', 30, 'pageview', '/second-page', tags('Internal'))))
    // The offline queue delivers the real landing afterwards: it takes the visit's stored values, it does not rewrite them.
    const late = row('acme', 's1', 10, 'pageview', '/landing', tags('Email', 'newsletter'))
    await written(stitcher, events(late))
    expect(visitOf(late)).toEqual(visit('Internal', '', '', '/second-page'))
  })

  it('sets entry_page from the first pageview of a visit known without one, for this batch and later ones', async () => {
    const { lookup } = storedVisits()
    const stitcher = new VisitStitcher({ max: 100, lookup })
    const start = row('acme', 's1', 1, 'click', '/app', tags('Email', 'newsletter'))
    await written(stitcher, events(start))
    expect(visitOf(start)).toEqual(visit('Email', 'newsletter', '', ''))
    const batch = [row('acme', 's1', 2, 'click', '/c'), row('acme', 's1', 4, 'pageview', '/second'), row('acme', 's1', 3, 'pageview', '/first')]
    await written(stitcher, events(...batch))
    expect(batch.map(visitOf)).toEqual([1, 2, 3].map(() => visit('Email', 'newsletter', '', '/first')))
    const after = row('acme', 's1', 5, 'pageview', '/third')
    await written(stitcher, events(after))
    expect(visitOf(after)).toEqual(visit('Email', 'newsletter', '', '/first'))
  })

  it('sets entry_page of a visit the warehouse holds without one, keeping its channel and utm_*', async () => {
    const key = visitKey({ org_id: 'acme', site_id: 'web', session_id: 's1' })
    const stitcher = new VisitStitcher({ max: 100, lookup: storedVisits({ [key]: visit('Email', 'newsletter', 'spring', '') }).lookup })
    const rows = [row('acme', 's1', 2, 'pageview', '/now', tags('Direct')), row('acme', 's1', 3, 'click', '/now')]
    await written(stitcher, events(...rows))
    expect(rows.map(visitOf)).toEqual([1, 2].map(() => visit('Email', 'newsletter', 'spring', '/now')))
  })

  it('remembers at most max visits, the one used longest ago going first', async () => {
    const { lookup, calls } = storedVisits()
    const stitcher = new VisitStitcher({ max: 3, lookup })
    for (const s of ['a', 'b', 'c']) await written(stitcher, events(row('acme', s, 1, 'pageview', `/${s}`, tags('Direct'))))
    expect(stitcher.size).toBe(3)
    // Using a keeps it young; d then pushes out b.
    await written(stitcher, events(row('acme', 'a', 2, 'click', '/a')))
    await written(stitcher, events(row('acme', 'd', 1, 'pageview', '/d', tags('Direct'))))
    expect(stitcher.size).toBe(3)
    calls.length = 0
    for (const s of ['a', 'c', 'd']) await written(stitcher, events(row('acme', s, 3, 'click', '/x')))
    expect(calls).toEqual([])
    await written(stitcher, events(row('acme', 'b', 3, 'click', '/x')))
    expect(calls.map((c) => c.keys.map((k) => k.session_id))).toEqual([['b']])
  })

  it('forgets a visit idle longer than idleMs', async () => {
    const { lookup, calls } = storedVisits()
    const stitcher = new VisitStitcher({ max: 100, idleMs: 30, lookup })
    await written(stitcher, events(row('acme', 's1', 1, 'pageview', '/a', tags('Direct'))))
    await written(stitcher, events(row('acme', 's1', 2, 'click', '/a')))
    expect(calls).toHaveLength(1)
    await new Promise((r) => setTimeout(r, 60))
    await written(stitcher, events(row('acme', 's1', 3, 'click', '/a')))
    expect(calls).toHaveLength(2)
  })

  it('remembers nothing of a batch whose insert failed, and forgets all on clear()', async () => {
    const { lookup, calls } = storedVisits()
    const stitcher = new VisitStitcher({ max: 100, lookup })
    const failing = withVisitAttribution(async () => {
      throw new Error('warehouse down')
    }, stitcher)
    await expect(failing(events(row('acme', 's1', 1, 'pageview', '/a', tags('Direct'))))).rejects.toThrow('warehouse down')
    expect(stitcher.size).toBe(0)
    const inserted: WarehouseRecord[][] = []
    const working = withVisitAttribution(async (records) => {
      inserted.push([...records])
    }, stitcher)
    const r = row('acme', 's1', 1, 'pageview', '/a', tags('Direct'))
    await working(events(r))
    expect(inserted).toEqual([events(r)])
    expect(visitOf(r)).toEqual(visit('Direct', '', '', '/a'))
    expect(stitcher.size).toBe(1)
    stitcher.clear()
    expect(stitcher.size).toBe(0)
    calls.length = 0
    await working(events(row('acme', 's1', 2, 'click', '/a')))
    expect(calls).toHaveLength(1)
  })

  it('stamps a re-formed batch (a retried write) the same way again', async () => {
    const stitcher = new VisitStitcher({ max: 100, lookup: storedVisits().lookup })
    const rows = [row('acme', 's1', 2, 'pageview', '/two', tags('Internal')), row('acme', 's1', 1, 'click', '/one', tags('Email', 'nl'))]
    const first = await stitcher.stamp(events(...rows))
    const once = rows.map(visitOf)
    const again = await stitcher.stamp(events(...rows))
    expect(rows.map(visitOf)).toEqual(once)
    expect([...again]).toEqual([...first])
  })

  describe('with the filter of written visits (rebuilt from the warehouse)', () => {
    /** The rows' day, 10:00 UTC: the rebuild covers events from three days before on. */
    const NOW = Date.UTC(2026, 11, 1, 10)
    const stale = visitKey({ org_id: 'acme', site_id: 'web', session_id: 'stored' })

    async function rebuilt(lookup: VisitLookup) {
      const asked: string[] = []
      const stitcher = new VisitStitcher({
        max: 100,
        lookup,
        written: new WrittenVisits(1 << 16),
        stored: async (since) => {
          asked.push(since)
          return [{ org_id: 'acme', site_id: 'web', session_id: 'stored' }]
        },
      })
      expect(await stitcher.rebuild(NOW)).toBe(1)
      expect(asked).toEqual(['2026-11-28 10:00:00.000'])
      return stitcher
    }

    it('takes a visit the warehouse surely lacks as new without a lookup, and looks up one it may hold', async () => {
      const { lookup, calls } = storedVisits({ [stale]: visit('Email', 'newsletter', 'spring', '/landing') })
      const stitcher = await rebuilt(lookup)
      const fresh = row('acme', 'fresh', 1, 'pageview', '/new', tags('Direct'))
      // Same session id in another org: not what the warehouse holds.
      const otherOrg = row('beta', 'stored', 1, 'pageview', '/beta', tags('Referral'))
      await written(stitcher, events(fresh, otherOrg))
      expect(calls).toEqual([])
      expect([fresh, otherOrg].map(visitOf)).toEqual([visit('Direct', '', '', '/new'), visit('Referral', '', '', '/beta')])
      const continued = row('acme', 'stored', 2, 'click', '/later', tags('Direct'))
      await written(stitcher, events(continued))
      expect(calls.map((c) => c.keys.map((k) => k.session_id))).toEqual([['stored']])
      expect(visitOf(continued)).toEqual(visit('Email', 'newsletter', 'spring', '/landing'))
    })

    it('looks up a visit whose events reach back past what the rebuild covers (a late event)', async () => {
      const { lookup, calls } = storedVisits()
      const stitcher = await rebuilt(lookup)
      // 2026-11-30 10:00:00: two days back is 11-28 10:00, exactly covered; a millisecond earlier is not.
      await written(stitcher, events({ ...row('acme', 'edge', 0, 'pageview', '/e'), ts: '2026-11-30 10:00:00.000' }))
      expect(calls).toEqual([])
      await written(stitcher, events({ ...row('acme', 'late', 0, 'pageview', '/l'), ts: '2026-11-30 09:59:59.999' }))
      expect(calls.map((c) => c.keys.map((k) => k.session_id))).toEqual([['late']])
    })

    it('knows a visit it wrote, after memory forgot it (a late event then takes the written values)', async () => {
      const { lookup, calls } = storedVisits()
      const stitcher = await rebuilt(lookup)
      const events1 = [row('acme', 'v1', 5, 'pageview', '/a', tags('Email', 'nl'))]
      await written(stitcher, events(...events1))
      for (let i = 0; i < 100; i++) await written(stitcher, events(row('acme', `filler-${i}`, 5, 'pageview', '/f', tags('Direct'))))
      expect(calls).toEqual([])
      await written(stitcher, events(row('acme', 'v1', 1, 'pageview', '/late', tags('Direct'))))
      // v1 fell out of the 100-visit memory: the filter says it was written, so it is looked up (the stand-in holds nothing).
      expect(calls.map((c) => c.keys.map((k) => k.session_id))).toEqual([['v1']])
    })

    it('asks for every visit memory lacks once cleared, until rebuilt', async () => {
      const { lookup, calls } = storedVisits()
      const stitcher = await rebuilt(lookup)
      stitcher.clear()
      await written(stitcher, events(row('acme', 'fresh', 1, 'pageview', '/new', tags('Direct'))))
      expect(calls).toHaveLength(1)
    })
  })
})
