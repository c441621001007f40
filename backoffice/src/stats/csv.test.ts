import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { csvFilename, csvFormat, encodeCsv, endpointOf, OTHER_VALUE, statsTable } from './csv.js'

describe('encodeCsv', () => {
  it('RFC 4180: CRLF records, quotes doubled, commas and line breaks quoted', () => {
    expect(encodeCsv({ header: ['a', 'b'], rows: [['x,y', 'say "hi"'], ['line\nbreak', 'cr\ronly'], [null, true], [1.5, false]] })).toBe(
      'a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak","cr\ronly"\r\n,true\r\n1.5,false\r\n',
    )
  })

  it('text a spreadsheet would run as a formula starts with an apostrophe; numbers never do', () => {
    const cells = ['=HYPERLINK("http://evil")', '+1', '-2', '@SUM(A1)', '\tx', '\rx', '/ok', "'quoted"]
    const csv = encodeCsv({ header: ['v'], rows: [...cells.map((c) => [c]), [-3], [-0.25]] })
    expect(csv.split('\r\n')).toEqual([
      'v',
      `"'=HYPERLINK(""http://evil"")"`,
      "'+1",
      "'-2",
      "'@SUM(A1)",
      "'\tx",
      `"'\rx"`,
      '/ok',
      "'quoted",
      '-3',
      '-0.25',
      '',
    ])
  })
})

describe('statsTable', () => {
  it('timeseries: one row per bucket, hidden as empty cells beside the hidden column', () => {
    const body = { site: 'web', buckets: [{ t: '2026-11-01', hidden: false, visitors: 7, events: 9 }, { t: '2026-11-02', hidden: true, visitors: null, events: null }] }
    expect(statsTable('timeseries', body)).toEqual({ header: ['t', 'hidden', 'visitors', 'events'], rows: [['2026-11-01', false, 7, 9], ['2026-11-02', true, null, null]] })
  })

  it('breakdown: the other row as (other), extra columns kept; a null other is no row', () => {
    const rows = [{ value: '/a', visitors: 9, events: 12, visits: 10 }]
    expect(statsTable('breakdown', { rows, other: { visitors: 6, events: 7, visits: 6 } })).toEqual({
      header: ['value', 'visitors', 'events', 'visits'],
      rows: [['/a', 9, 12, 10], [OTHER_VALUE, 6, 7, 6]],
    })
    expect(statsTable('breakdown', { rows, other: null }).rows).toHaveLength(1)
  })

  it('aggregate: a row per metric with the answer’s hidden flag', () => {
    const body = { hidden: false, metrics: { visitors: { value: 12, previous: 10, change: 0.2 }, bounce_rate: { value: 0.5, previous: 0.25, change: 0.25 } } }
    expect(statsTable('aggregate', body)).toEqual({
      header: ['metric', 'value', 'previous', 'change', 'hidden'],
      rows: [
        ['visitors', 12, 10, 0.2, false],
        ['bounce_rate', 0.5, 0.25, 0.25, false],
      ],
    })
  })

  it('consent, cohorts, integration, sites: their own shapes flattened', () => {
    expect(statsTable('consent', { sources: [{ source: 'banner', grants: 7, refusals: null }], grants: 7, refusals: null, grant_rate: null }).rows).toEqual([
      ['banner', 7, null, null],
      ['(total)', 7, null, null],
    ])
    const cohorts = { cohorts: [{ cohort: '2026-11-02', hidden: false, accounts: 8, retained: [{ t: '2026-11-09', offset: 1, accounts: 6 }] }] }
    expect(statsTable('adoption/cohorts', cohorts).rows).toEqual([
      ['2026-11-02', false, 0, '2026-11-02', 8],
      ['2026-11-02', false, 1, '2026-11-09', 6],
    ])
    const integration = { humans: { events: null, hidden: true, by_name: [{ type: 'click', name: 'x', events: null }] }, bots: { events: 3, by_name: [{ type: 'pageview', name: '', events: 3 }] } }
    expect(statsTable('realtime/integration', integration)).toEqual({
      header: ['audience', 'type', 'name', 'events', 'hidden'],
      rows: [
        ['humans', '(all)', '', null, true],
        ['humans', 'click', 'x', null, true],
        ['bots', '(all)', '', 3, false],
        ['bots', 'pageview', '', 3, false],
      ],
    })
    expect(statsTable('sites', { sites: [{ id: 'web', allowed_origins: ['https://a', 'https://b'], consent_mode: 'opt-in' }] }).rows).toEqual([['web', 'https://a https://b', 'opt-in']])
  })

  it('endpoint names and file names', () => {
    expect(endpointOf('/v1/stats/adoption/cohorts')).toBe('adoption/cohorts')
    expect(endpointOf('/v1/shared/sh_abc/stats/realtime/integration')).toBe('realtime/integration')
    expect(endpointOf('/breakdown')).toBe('breakdown')
    expect(csvFilename('adoption/cohorts', { site: 'web', from: '2026-11-01T13:00', to: '2026-11-02' })).toBe('web-adoption-cohorts-2026-11-01T13-00-2026-11-02.csv')
    expect(csvFilename('realtime', { site: 'w"eb' })).toBe('w-eb-realtime.csv')
  })
})

describe('csvFormat middleware', () => {
  const app = new Hono()
  app.use('*', csvFormat())
  app.get('/breakdown', (c) => c.json({ site: 'web', from: '2026-11-01', to: '2026-11-08', rows: [{ value: '=cmd', visitors: 5, events: 6 }], other: null }))
  app.get('/bad', (c) => c.json({ error: 'invalid_filter', message: 'no' }, 400))

  it('format=csv answers text/csv with a download name; json and no format stay JSON', async () => {
    const res = await app.request('/breakdown?format=csv')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="web-breakdown-2026-11-01-2026-11-08.csv"')
    expect(await res.text()).toBe("value,visitors,events\r\n'=cmd,5,6\r\n")
    for (const q of ['', '?format=json']) expect((await app.request(`/breakdown${q}`)).headers.get('content-type')).toMatch(/^application\/json/)
  })

  it('an unknown format is a 400 naming the parameter; a refusal stays JSON', async () => {
    const res = await app.request('/breakdown?format=xlsx')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request', param: 'format' })
    const bad = await app.request('/bad?format=csv')
    expect(bad.status).toBe(400)
    expect(await bad.json()).toEqual({ error: 'invalid_filter', message: 'no' })
  })
})
