import type { AdoptionResponse, BreakdownResponse, SitesResponse, StatsDimension, TimeseriesResponse } from '@atspark/schemas'
import { ApiError, type RangeParams, StatsClient } from './api.js'
import { bucketLabel, type TimeChart, timeChart } from './charts.js'
import { byId, el } from './dom.js'
import { type BreakdownLabels, renderBreakdown, renderConsent, renderTable, renderTiles } from './panels.js'
import { bucketMs, bucketStarts, customRangeProblem, describeRange, type Interval, isoDay, PRESET_DAYS, type ResolvedRange, resolveRange } from './range.js'
import { forgetKey, storedKey, storeKey } from './session.js'
import { formatViewState, parseViewState, type ViewState } from './view-state.js'

interface BreakdownCard {
  card: string
  dimension: StatsDimension
  type?: 'pageview'
  labels: BreakdownLabels
}

/** The breakdown cards: pages and referrers count pageviews; the rest count every event of a visitor. */
const BREAKDOWNS: readonly BreakdownCard[] = [
  { card: 'pages', dimension: 'url_path', type: 'pageview', labels: { value: 'Page', events: 'Views' } },
  { card: 'referrers', dimension: 'referrer_host', type: 'pageview', labels: { value: 'Referrer', events: 'Views' } },
  { card: 'countries', dimension: 'country', labels: { value: 'Country', events: 'Events' } },
  { card: 'browsers', dimension: 'browser', labels: { value: 'Browser', events: 'Events' } },
  { card: 'devices', dimension: 'device_type', labels: { value: 'Device', events: 'Events' } },
]
const BREAKDOWN_LIMIT = 10
const FEATURE_LIMIT = 20

const PERIOD: Readonly<Record<Interval, string>> = { hour: 'hour', day: 'day', week: 'week' }

type PageState = 'signed-out' | 'loading' | 'ready'

class Dashboard {
  private client: StatsClient | undefined
  private sites: SitesResponse['sites'] = []
  private view: ViewState = parseViewState(location.hash)
  private range: ResolvedRange = resolveRange(this.view.range, Date.now())
  private loading: AbortController | undefined
  private adoptionLoading: AbortController | undefined
  private charts = new Map<string, TimeChart>()
  private pending = 0

  start(): void {
    byId<HTMLFormElement>('signin-form').addEventListener('submit', (e) => {
      e.preventDefault()
      void this.signIn()
    })
    byId('sign-out').addEventListener('click', () => this.signOut())
    byId<HTMLSelectElement>('site').addEventListener('change', (e) => this.update({ site: (e.target as HTMLSelectElement).value }))
    byId<HTMLSelectElement>('feature').addEventListener('change', (e) => {
      this.view = { ...this.view, feature: (e.target as HTMLSelectElement).value }
      this.writeHash()
      void this.loadAdoption()
    })
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-days]')) {
      button.addEventListener('click', () => {
        const days = Number(button.dataset.days)
        const preset = PRESET_DAYS.find((d) => d === days)
        if (preset) this.update({ range: { kind: 'preset', days: preset } })
      })
    }
    byId<HTMLFormElement>('custom-range').addEventListener('submit', (e) => {
      e.preventDefault()
      const from = byId<HTMLInputElement>('from').value
      const to = byId<HTMLInputElement>('to').value
      const problem = customRangeProblem(from, to)
      byId('range-error').textContent = problem ?? ''
      if (!problem) this.update({ range: { kind: 'custom', from, to } })
    })
    // A hand-edited fragment (or back/forward) shows what it names.
    window.addEventListener('hashchange', () => {
      if (!this.client) return
      this.view = parseViewState(location.hash)
      void this.load()
    })

    const key = storedKey()
    if (key) void this.enter(new StatsClient(key))
    else this.showSignIn()
  }

  private async signIn(): Promise<void> {
    const input = byId<HTMLInputElement>('api-key')
    const error = byId('signin-error')
    const button = byId<HTMLButtonElement>('signin-submit')
    const key = input.value.trim()
    error.textContent = ''
    if (!key) {
      error.textContent = 'Enter an API key.'
      return
    }
    button.disabled = true
    try {
      const client = new StatsClient(key)
      const sites = await client.sites()
      storeKey(key)
      input.value = ''
      await this.enter(client, sites)
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : 'Signing in failed.'
      input.select()
    } finally {
      button.disabled = false
    }
  }

  /** Shows the dashboard for a key: its org's sites, then the data. */
  private async enter(client: StatsClient, known?: SitesResponse): Promise<void> {
    let sites: SitesResponse
    try {
      sites = known ?? (await client.sites())
    } catch (err) {
      // Only a refused key is forgotten; an unreachable back office keeps it for the next try.
      if (err instanceof ApiError && !err.signsOut) this.showSignIn(err.message)
      else this.signOut(err instanceof ApiError ? err.message : 'Signing in failed.')
      return
    }
    if (sites.sites.length === 0) {
      this.signOut(`Org ${sites.org_id} has no sites.`)
      return
    }
    this.client = client
    this.sites = sites.sites
    byId('org').textContent = `org ${sites.org_id}`
    const select = byId<HTMLSelectElement>('site')
    select.replaceChildren(...sites.sites.map((s) => el('option', { value: s.id }, `${s.id} (${s.consent_mode})`)))
    byId('signin').hidden = true
    byId('dashboard').hidden = false
    byId('org').hidden = false
    byId('sign-out').hidden = false
    await this.load()
  }

  private showSignIn(message = ''): void {
    this.setState('signed-out')
    byId('dashboard').hidden = true
    byId('org').hidden = true
    byId('sign-out').hidden = true
    byId('signin').hidden = false
    byId('signin-error').textContent = message
    byId<HTMLInputElement>('api-key').focus()
  }

  /** Forgets the key and every number shown. */
  private signOut(message = ''): void {
    forgetKey()
    this.client = undefined
    this.loading?.abort()
    this.adoptionLoading?.abort()
    for (const chart of this.charts.values()) chart.destroy()
    this.charts.clear()
    for (const body of document.querySelectorAll('#dashboard .card-body')) body.replaceChildren()
    this.showSignIn(message)
  }

  private update(change: Partial<ViewState>): void {
    this.view = { ...this.view, ...change }
    void this.load()
  }

  private writeHash(): void {
    history.replaceState(null, '', formatViewState(this.view))
  }

  /** Every card for the current site and range; a newer load cancels this one. */
  private async load(): Promise<void> {
    const client = this.client
    if (!client) return
    const site = this.sites.find((s) => s.id === this.view.site)?.id ?? this.sites[0]!.id
    this.view = { ...this.view, site }
    this.writeHash()
    this.range = resolveRange(this.view.range, Date.now())
    this.showControls()
    this.loading?.abort()
    const abort = new AbortController()
    this.loading = abort
    const params: RangeParams = { site, from: this.range.from, to: this.range.to }
    const range = this.range
    const { signal } = abort

    await this.track(
      Promise.allSettled([
        this.guard('traffic', signal, client.timeseries(params, range.interval, signal), (body) => this.renderTraffic(body, range)),
        ...BREAKDOWNS.map((b) =>
          this.guard(b.card, signal, client.breakdown(params, b.dimension, b.type, BREAKDOWN_LIMIT, signal), (body) => renderBreakdown(this.body(b.card), body, b.labels)),
        ),
        this.guard('consent', signal, client.consent(params, signal), (body) => renderConsent(this.body('consent'), body)),
        this.guard('adoption', signal, client.breakdown(params, 'name', 'feature', FEATURE_LIMIT, signal), async (body) => {
          this.showFeatures(body)
          await this.loadAdoption()
        }),
      ]),
    )
  }

  private async loadAdoption(): Promise<void> {
    const client = this.client
    const feature = this.view.feature
    const site = this.view.site
    this.adoptionLoading?.abort()
    if (!client || !site || !feature) return
    const abort = new AbortController()
    this.adoptionLoading = abort
    const range = this.range
    await this.track(
      this.guard('adoption', abort.signal, client.adoption({ site, from: range.from, to: range.to }, feature, range.interval, abort.signal), (body) =>
        this.renderAdoption(body, range),
      ),
    )
  }

  /** Counts loads in flight, so the page can say (and tests can see) when every card is current. */
  private async track(work: Promise<unknown>): Promise<void> {
    this.pending++
    this.setState('loading')
    try {
      await work
    } finally {
      this.pending--
      if (this.pending === 0 && this.client) {
        this.setState('ready')
        byId('status').textContent = `Updated ${new Date().toISOString().slice(11, 16)} UTC`
      }
    }
  }

  /** Renders one card from one request; its failure shows in that card, and a refused key signs out. */
  private async guard<T>(card: string, signal: AbortSignal, request: Promise<T>, render: (body: T) => void | Promise<void>): Promise<void> {
    const section = byId(`card-${card}`)
    section.setAttribute('aria-busy', 'true')
    try {
      const body = await request
      if (signal.aborted) return
      section.querySelector('.card-error')?.remove()
      await render(body)
    } catch (err) {
      if (signal.aborted || (err as Error).name === 'AbortError') return
      if (err instanceof ApiError && err.signsOut) {
        this.signOut(err.message)
        return
      }
      this.body(card).replaceChildren(el('p', { class: 'card-error', role: 'alert' }, err instanceof Error ? err.message : String(err)))
    } finally {
      if (!signal.aborted) section.removeAttribute('aria-busy')
    }
  }

  private body(card: string): HTMLElement {
    const body = byId(`card-${card}`).querySelector<HTMLElement>('.card-body')
    if (!body) throw new Error(`#card-${card} has no .card-body`)
    return body
  }

  private setState(state: PageState): void {
    document.body.dataset.state = state
  }

  private showControls(): void {
    const site = byId<HTMLSelectElement>('site')
    if (this.view.site) site.value = this.view.site
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-days]')) {
      const pressed = this.view.range.kind === 'preset' && this.view.range.days === Number(button.dataset.days)
      button.setAttribute('aria-pressed', String(pressed))
    }
    const today = isoDay(Date.now())
    const from = byId<HTMLInputElement>('from')
    const to = byId<HTMLInputElement>('to')
    from.value = this.range.from
    to.value = this.range.last
    from.max = today
    to.max = today
    byId('range-label').textContent = `${describeRange(this.range)}, by ${PERIOD[this.range.interval]}`
    byId('range-error').textContent = ''
  }

  private renderTraffic(body: TimeseriesResponse, range: ResolvedRange): void {
    type Bucket = TimeseriesResponse['buckets'][number]
    const slots = alignBuckets(range, body.buckets)
    const shown = slots.filter((s) => !s.hidden)
    const sum = (pick: (b: Bucket) => number | null) => shown.reduce((n, s) => n + (count(s, pick) ?? 0), 0)
    const period = PERIOD[range.interval]
    this.chartCard('traffic', `Visitors and pageviews per ${period}`)
    const hidden = slots.length - shown.length
    // With every period that had events hidden, a total would read as a true zero.
    const total = (value: number) => (hidden > 0 && !shown.some((s) => s.bucket) ? null : value)
    const partial = hidden > 0 ? `not counting hidden ${period}s` : undefined
    renderTiles(byId('traffic-tiles'), [
      { label: 'Pageviews', value: total(sum((b) => b.pageviews)), note: partial },
      { label: 'Sessions', value: total(sum((b) => b.sessions)), note: partial },
      { label: `Most visitors in a ${period}`, value: total(Math.max(0, ...shown.map((s) => count(s, (b) => b.visitors) ?? 0))) },
      { label: `Hidden ${period}s`, value: hidden, note: `fewer than k = ${body.k} visitors` },
    ])
    this.drawChart('traffic', {
      xs: slots.map((s) => s.ms),
      hidden: slots.map((s) => s.hidden),
      series: [
        { label: 'Visitors', values: slots.map((s) => count(s, (b) => b.visitors)) },
        { label: 'Pageviews', values: slots.map((s) => count(s, (b) => b.pageviews)) },
      ],
      interval: range.interval,
    })
    renderTable(
      byId('traffic-table'),
      `Visitors, pageviews and sessions per ${period} (UTC)`,
      [capitalize(period), 'Visitors', 'Pageviews', 'Sessions'],
      slots.map((s) => ({
        key: s.t,
        hidden: s.hidden,
        cells: [bucketLabel(s.ms, range.interval), count(s, (b) => b.visitors), count(s, (b) => b.pageviews), count(s, (b) => b.sessions)],
      })),
    )
    byId('k-note').textContent = `Counts seen by fewer than k = ${body.k} distinct visitors are shown as “hidden”, never as zero, and values they alone have are only counted in “Other”.`
  }

  private showFeatures(body: BreakdownResponse): void {
    const select = byId<HTMLSelectElement>('feature')
    const features = body.rows.map((r) => r.value)
    select.replaceChildren(...features.map((f) => el('option', { value: f }, f)))
    select.disabled = features.length === 0
    const feature = features.includes(this.view.feature ?? '') ? this.view.feature : features[0]
    this.view = { ...this.view, ...(feature ? { feature } : { feature: undefined }) }
    this.writeHash()
    if (feature) select.value = feature
    else {
      this.charts.get('adoption')?.destroy()
      this.charts.delete('adoption')
      this.body('adoption').replaceChildren(el('p', { class: 'empty' }, 'No feature used by at least k visitors in this range.'))
    }
  }

  private renderAdoption(body: AdoptionResponse, range: ResolvedRange): void {
    const slots = alignBuckets(range, body.buckets)
    const shown = slots.filter((s) => !s.hidden)
    const period = PERIOD[range.interval]
    this.chartCard('adoption', `Accounts using ${body.feature} per ${period}`)
    const hidden = slots.length - shown.length
    const total = (value: number) => (hidden > 0 && !shown.some((s) => s.bucket) ? null : value)
    renderTiles(byId('adoption-tiles'), [
      { label: `Most accounts in a ${period}`, value: total(Math.max(0, ...shown.map((s) => count(s, (b) => b.accounts) ?? 0))) },
      {
        label: 'Feature events',
        value: total(shown.reduce((n, s) => n + (count(s, (b) => b.events) ?? 0), 0)),
        note: hidden > 0 ? `not counting hidden ${period}s` : undefined,
      },
      { label: `Hidden ${period}s`, value: hidden, note: `fewer than k = ${body.k} accounts or visitors` },
    ])
    this.drawChart('adoption', {
      xs: slots.map((s) => s.ms),
      hidden: slots.map((s) => s.hidden),
      series: [{ label: 'Accounts', values: slots.map((s) => count(s, (b) => b.accounts)) }],
      interval: range.interval,
    })
    renderTable(
      byId('adoption-table'),
      `Accounts using ${body.feature} per ${period} (UTC)`,
      [capitalize(period), 'Accounts', 'Visitors', 'Events'],
      slots.map((s) => ({
        key: s.t,
        hidden: s.hidden,
        cells: [bucketLabel(s.ms, range.interval), count(s, (b) => b.accounts), count(s, (b) => b.visitors), count(s, (b) => b.events)],
      })),
    )
  }

  /** A chart card's parts (tiles, chart, legend, table), made again after an error or a sign-out emptied it. */
  private chartCard(name: string, label: string): void {
    const host = this.body(name)
    if (!host.querySelector('.chart')) {
      host.replaceChildren(
        el('div', { class: 'tiles', id: `${name}-tiles` }),
        el('div', { class: 'chart', id: `${name}-chart`, role: 'img' }),
        el('ul', { class: 'legend', id: `${name}-legend` }),
        el('details', {}, el('summary', {}, 'Table'), el('div', { class: 'table-wrap', id: `${name}-table` })),
      )
    }
    byId(`${name}-chart`).setAttribute('aria-label', `${label}; the table below has the numbers`)
  }

  private drawChart(name: string, data: Parameters<typeof timeChart>[2]): void {
    this.charts.get(name)?.destroy()
    this.charts.set(name, timeChart(byId(`${name}-chart`), byId(`${name}-legend`), data))
  }
}

interface Slot<B> {
  t: string
  ms: number
  hidden: boolean
  /** The API's bucket; absent for a period without any event, which counts as zero. */
  bucket: B | undefined
}

/** Every bucket of the range in order: the API's, and the periods it left out because nothing happened. */
function alignBuckets<B extends { t: string; hidden: boolean }>(range: ResolvedRange, buckets: readonly B[]): Slot<B>[] {
  const byMs = new Map(buckets.map((b) => [bucketMs(b.t), b]))
  const all = [...new Set([...bucketStarts(range), ...byMs.keys()])].sort((a, b) => a - b)
  return all.map((ms) => {
    const bucket = byMs.get(ms)
    const t = bucket?.t ?? (range.interval === 'hour' ? new Date(ms).toISOString().slice(0, 19) : isoDay(ms))
    return { t, ms, hidden: bucket?.hidden ?? false, bucket }
  })
}

/** A slot's count: null when hidden, 0 for a period without events. */
function count<B>(slot: Slot<B>, pick: (b: B) => number | null): number | null {
  return slot.bucket ? pick(slot.bucket) : 0
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)

new Dashboard().start()
