import type { AdoptionResponse, BreakdownResponse, SitesResponse, TimeseriesResponse } from '@atspark/schemas'
import { ApiError, type Download, type Scope, STALE_KEY_MESSAGE, StatsClient, save } from './api.js'
import { type Panel, PANELS, type Tab, renderBreakdown, renderPanelHead, tabQuery } from './breakdowns.js'
import { bucketLabel, type TimeChart, timeChart } from './charts.js'
import { byId, el } from './dom.js'
import { activeValue, filterLabel, formatFilters, withFilter, withoutFilter } from './filters.js'
import { getK, setK, valueLabel } from './format.js'
import type { Breakdown } from './types.js'
import { FUNNEL_MAX, renderCohorts, renderFunnel, renderFunnelOptions, renderFunnelSteps } from './funnel.js'
import { renderInstall, renderIntegration } from './install.js'
import { renderMetrics } from './metrics.js'
import { renderConsent, renderTable, renderTiles } from './panels.js'
import { Poller } from './poller.js'
import { bucketMs, bucketStarts, customRangeProblem, describeRange, type Interval, isoDay, PRESET_DAYS, periodWords, type ResolvedRange, resolveRange } from './range.js'
import { renderRealtime } from './realtime.js'
import { forgetKey, storedKey, storeKey } from './session.js'
import { formatViewState, parseViewState, type ViewState } from './view-state.js'

const FEATURE_LIMIT = 20
const REALTIME_MS = 10_000
const INTEGRATION_MS = 5_000

/** "an hour", "a day", "a week": the article the noun takes. */
const PERIOD: Readonly<Record<Interval, { noun: string; article: string }>> = {
  hour: { noun: 'hour', article: 'an' },
  day: { noun: 'day', article: 'a' },
  week: { noun: 'week', article: 'a' },
}

type PageState = 'signed-out' | 'loading' | 'ready' | 'gone'

class Dashboard {
  private client: StatsClient | undefined
  private sites: SitesResponse['sites'] = []
  private view: ViewState = parseViewState(location.search)
  private range: ResolvedRange = resolveRange(this.view.range, Date.now())
  private loading: AbortController | undefined
  private adoptionLoading: AbortController | undefined
  private funnelLoading: AbortController | undefined
  private charts = new Map<string, TimeChart>()
  private tabs = new Map<string, Tab>()
  /** Each tab's answer for the current view (site, range, filters): a tab shown again is drawn from it, not asked again. */
  private tabAnswers = new Map<string, Promise<Breakdown>>()
  private pending = 0
  private funnelSteps = ['', '']
  /** Suggestions for the funnel's steps, from the pages and events panels' answers. */
  private funnelPages: string[] = []
  private funnelEvents: string[] = []
  private totalVisitors: number | null = null
  private realtime = new Poller(REALTIME_MS, (signal) => this.pollRealtime(signal))
  private integration = new Poller(INTEGRATION_MS, (signal) => this.pollIntegration(signal))
  private realtimeSite: string | undefined
  private installing: string | undefined

  start(): void {
    byId<HTMLFormElement>('signin-form').addEventListener('submit', (e) => {
      e.preventDefault()
      void this.signIn()
    })
    byId('sign-out').addEventListener('click', () => this.signOut())
    // Another site has other pages and features: its filters and feature start afresh.
    byId<HTMLSelectElement>('site').addEventListener('change', (e) => this.navigate({ site: (e.target as HTMLSelectElement).value, filters: [], feature: undefined }))
    byId<HTMLSelectElement>('feature').addEventListener('change', (e) => {
      this.view = { ...this.view, feature: (e.target as HTMLSelectElement).value }
      history.replaceState(null, '', formatViewState(this.view))
      void this.loadAdoption()
    })
    for (const button of document.querySelectorAll<HTMLButtonElement>('[data-days]')) {
      button.addEventListener('click', () => {
        const preset = PRESET_DAYS.find((d) => d === Number(button.dataset.days))
        if (preset) this.navigate({ range: { kind: 'preset', days: preset } })
      })
    }
    byId<HTMLFormElement>('custom-range').addEventListener('submit', (e) => {
      e.preventDefault()
      const from = byId<HTMLInputElement>('from').value
      const to = byId<HTMLInputElement>('to').value
      const problem = customRangeProblem(from, to)
      byId('range-error').textContent = problem ?? ''
      if (!problem) this.navigate({ range: { kind: 'custom', from, to } })
    })
    byId('clear-filters').addEventListener('click', () => this.navigate({ filters: [] }))
    byId('export-all').addEventListener('click', () => void this.download('export-all', (c, s) => c.exportZip(s)))
    byId<HTMLFormElement>('funnel-form').addEventListener('submit', (e) => {
      e.preventDefault()
      this.readFunnelInputs()
      void this.loadFunnel()
    })
    byId('funnel-add').addEventListener('click', () => {
      this.readFunnelInputs()
      if (this.funnelSteps.length < FUNNEL_MAX) this.setFunnelSteps([...this.funnelSteps, ''])
      byId<HTMLInputElement>(`funnel-step-${this.funnelSteps.length - 1}`).focus()
    })
    this.setFunnelSteps(this.funnelSteps)
    // Back, forward, or a hand-edited URL: show what the URL names.
    window.addEventListener('popstate', () => {
      if (!this.client) return
      this.view = parseViewState(location.search)
      void this.load()
    })
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) this.realtime.stop()
      else if (this.client && this.realtimeSite) this.realtime.start()
    })

    const shared = /^\/share\/([^/?#]+)$/.exec(location.pathname)
    if (shared) {
      void this.enter(new StatsClient({ kind: 'shared', token: decodeURIComponent(shared[1]!) }))
      return
    }
    const key = storedKey()
    if (key) void this.enter(new StatsClient({ kind: 'key', key }), undefined, true)
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
      const client = new StatsClient({ kind: 'key', key })
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

  /** Shows the dashboard for a key or a shared link: its sites, then the data. */
  private async enter(client: StatsClient, known?: SitesResponse, stored = false): Promise<void> {
    let sites: SitesResponse
    try {
      sites = known ?? (await client.sites())
    } catch (err) {
      if (client.shared) return this.showGone(err)
      // Only a refused key is forgotten; an unreachable back office keeps it for the next try.
      if (err instanceof ApiError && !err.signsOut) this.showSignIn(err.message)
      else this.signOut(err instanceof ApiError ? (stored && err.status === 401 ? STALE_KEY_MESSAGE : err.message) : 'Signing in failed.')
      return
    }
    if (sites.sites.length === 0) {
      this.signOut(`Org ${sites.org_id} has no sites.`)
      return
    }
    this.client = client
    this.sites = sites.sites
    const select = byId<HTMLSelectElement>('site')
    select.replaceChildren(...sites.sites.map((s) => el('option', { value: s.id }, client.shared ? s.id : `${s.id} (${s.consent_mode})`)))
    byId('signin').hidden = true
    byId('dashboard').hidden = false
    if (client.shared) {
      document.body.classList.add('shared')
      select.disabled = sites.sites.length === 1
      const banner = byId('shared-banner')
      banner.textContent = `Shared view of ${sites.sites[0]!.id}: read-only, aggregates only (every number from at least k visitors). No sign-in needed; the link stops working when it expires or is revoked.`
      banner.hidden = false
    } else {
      byId('org').textContent = `org ${sites.org_id}`
      byId('org').hidden = false
      byId('sign-out').hidden = false
    }
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

  /** A shared link that does not (or no longer) work: say so, show nothing else. */
  private showGone(err: unknown): void {
    this.stopAll()
    this.client = undefined
    byId('dashboard').hidden = true
    byId('shared-banner').hidden = true
    byId('gone').hidden = false
    if (err instanceof ApiError && err.status !== 404) byId('gone-message').textContent = err.message
    this.setState('gone')
  }

  private stopAll(): void {
    this.loading?.abort()
    this.adoptionLoading?.abort()
    this.funnelLoading?.abort()
    this.realtime.stop()
    this.integration.stop()
    this.realtimeSite = undefined
    this.installing = undefined
  }

  /** Forgets the key and every number shown. */
  private signOut(message = ''): void {
    forgetKey()
    this.client = undefined
    this.stopAll()
    for (const chart of this.charts.values()) chart.destroy()
    this.charts.clear()
    for (const body of document.querySelectorAll('#dashboard .card-body, #metrics, #install')) body.replaceChildren()
    byId('install').hidden = true
    byId('dashboard').classList.remove('is-empty')
    this.showSignIn(message)
  }

  /** A change the visitor made: a new history entry, so back and forward step through views. */
  private navigate(change: Partial<ViewState>): void {
    this.view = { ...this.view, ...change }
    history.pushState(null, '', formatViewState(this.view))
    void this.load()
  }

  private scope(): Scope {
    return { site: this.view.site!, from: this.range.from, to: this.range.to, filters: formatFilters(this.view.filters) }
  }

  /** Every card for the current site, range and filters, requested at once and drawn as each answers; a newer load cancels this one. */
  private async load(): Promise<void> {
    const client = this.client
    if (!client) return
    const site = this.sites.find((s) => s.id === this.view.site)?.id ?? this.sites[0]!.id
    this.view = { ...this.view, site }
    history.replaceState(null, '', formatViewState(this.view))
    this.range = resolveRange(this.view.range, Date.now())
    this.showControls()
    this.showFilters()
    this.loading?.abort()
    const abort = new AbortController()
    this.loading = abort
    const { signal } = abort
    this.tabAnswers.clear()
    const scope = this.scope()
    const range = this.range
    // With a goal chip the headline cards answer "of these visitors, how many converted": the goal
    // goes to /aggregate as goal= over the other filters, so the conversion rate has its denominator.
    const goalClause = this.view.filters.find((f) => f.dimension === 'goal' && f.op === '==' && f.values.length === 1)
    const goalFilter = goalClause?.values[0]
    const aggregateScope = goalClause ? { ...scope, filters: formatFilters(this.view.filters.filter((f) => f !== goalClause)) } : scope

    const aggregate = client.aggregate(aggregateScope, goalFilter, signal)
    await this.track(
      Promise.allSettled([
        this.guard('metrics', signal, aggregate, (body) => {
          setK(body.k)
          this.totalVisitors = body.metrics.visitors?.value ?? null
          renderMetrics(byId('metrics'), body, periodWords(range))
          byId('k-help-text').textContent = `A number seen by fewer than k = ${body.k} distinct visitors is never shown: it reads “< ${body.k}”, never 0, and values only such visitors have are counted in “Other”. This holds under every filter: a filter that would single out fewer than ${body.k} visitors hides the answer.`
          // Only the unfiltered page up to today can say the site has (almost) nobody yet: a narrow filter or an old quiet day is not an empty site.
          this.showInstall(site, !scope.filters && this.view.range.kind === 'preset' && (body.hidden || body.metrics.visitors?.value === 0))
        }),
        this.guard('traffic', signal, client.timeseries(scope, range.interval, signal), (body) => this.renderTraffic(body, range)),
        ...PANELS.map((panel) => this.loadPanel(panel, signal, aggregate)),
        this.guard('consent', signal, client.consent(scope, signal), (body) => {
          renderConsent(this.body('consent'), body)
          if (scope.filters) this.body('consent').prepend(el('p', { class: 'card-note' }, 'Consent receipts carry no page, source or device: this card is not filtered.'))
        }),
        this.loadFeatures(client, scope, signal),
        this.funnelSteps.filter(Boolean).length >= 2 ? this.loadFunnel() : Promise.resolve(),
      ]),
    )
    // Realtime starts once the range's cards are drawn: it must not hold one of the browser's few connections before them.
    if (this.client && this.realtimeSite !== site && !signal.aborted) {
      this.realtimeSite = site
      this.realtime.start()
    }
  }

  private currentTab(panel: Panel): Tab {
    return this.tabs.get(panel.id) ?? panel.tabs[0]!
  }

  private async loadPanel(panel: Panel, signal: AbortSignal, aggregate?: Promise<unknown>): Promise<void> {
    const client = this.client
    if (!client) return
    const tab = this.currentTab(panel)
    const section = byId(`card-${panel.id}`)
    renderPanelHead(section, panel, tab, {
      selectTab: (p, t) => {
        this.tabs.set(p.id, t)
        void this.track(this.loadPanel(p, this.loading?.signal ?? new AbortController().signal))
      },
      download: (_p, t) => void this.download(`csv-${t.id}`, (c, s) => c.breakdownCsv(s, tabQuery(t))),
    })
    const request = this.tabAnswer(client, tab, signal)
    await this.guard(panel.id, signal, request, async (body) => {
      // Goals' conversion rate is over every visitor under the same filters: wait for the headline number.
      if (tab.dimension === 'goal') await aggregate?.catch(() => undefined)
      if (this.currentTab(panel) !== tab) return
      section.dataset.tab = tab.id
      this.suggestFunnel(tab, body)
      renderBreakdown(this.body(panel.id), body, tab, {
        active: activeValue(this.view.filters, tab.dimension),
        totalVisitors: this.totalVisitors,
        filter: (dimension, value) => this.toggleFilter(dimension, value),
      })
    })
  }

  /** A tab's breakdown for the current view, asked once: a failed or cancelled one is asked again next time. */
  private tabAnswer(client: StatsClient, tab: Tab, signal: AbortSignal): Promise<Breakdown> {
    const cached = this.tabAnswers.get(tab.id)
    if (cached) return cached
    const request = client.breakdown(this.scope(), tabQuery(tab), signal)
    this.tabAnswers.set(tab.id, request)
    request.catch(() => {
      if (this.tabAnswers.get(tab.id) === request) this.tabAnswers.delete(tab.id)
    })
    return request
  }

  /** A row click filters everything by it; clicking the row it filters by removes that filter. */
  private toggleFilter(dimension: string, value: string): void {
    const index = this.view.filters.findIndex((f) => f.dimension === dimension && f.op === '==' && f.values.length === 1 && f.values[0] === value)
    this.navigate({ filters: index >= 0 ? withoutFilter(this.view.filters, index) : withFilter(this.view.filters, dimension, value) })
  }

  private showFilters(): void {
    const filters = this.view.filters
    byId('filters').hidden = filters.length === 0
    byId('filter-chips').replaceChildren(
      ...filters.map((f, i) => {
        const words = filterLabel(f, valueLabel)
        const remove = el('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove filter: ${words}` }, '×')
        remove.addEventListener('click', () => this.navigate({ filters: withoutFilter(this.view.filters, i) }))
        return el('li', { class: 'chip', 'data-filter': formatFilters([f]) }, el('span', { class: 'chip-text' }, words), remove)
      }),
    )
  }

  private async download(what: string, fetcher: (client: StatsClient, scope: Scope) => Promise<Download>): Promise<void> {
    const client = this.client
    if (!client) return
    const status = byId('status')
    try {
      save(await fetcher(client, this.scope()))
      status.textContent = 'Download ready.'
    } catch (err) {
      if (err instanceof ApiError && err.signsOut && !client.shared) return this.signOut(err.status === 401 ? STALE_KEY_MESSAGE : err.message)
      status.textContent = `The ${what === 'export-all' ? 'export' : 'CSV'} failed: ${err instanceof Error ? err.message : String(err)}`
    }
  }

  private async pollRealtime(signal: AbortSignal): Promise<void> {
    const client = this.client
    const site = this.realtimeSite
    if (!client || !site) return
    await this.guard('realtime', signal, client.realtime(site, signal), (body) => {
      if (site === this.realtimeSite) renderRealtime(this.body('realtime'), body)
    })
  }

  /** A site with fewer than k visitors in the range shows how to install and what is arriving now, instead of flat zeros. */
  private showInstall(site: string, empty: boolean): void {
    const card = byId('install')
    byId('dashboard').classList.toggle('is-empty', empty && !this.client?.shared)
    if (!empty || this.client?.shared) {
      card.hidden = true
      this.integration.stop()
      this.installing = undefined
      return
    }
    card.hidden = false
    if (this.installing === site) return
    this.installing = site
    renderInstall(card, site)
    this.integration.start()
  }

  private async pollIntegration(signal: AbortSignal): Promise<void> {
    const client = this.client
    const site = this.installing
    if (!client || !site) return
    try {
      const body = await client.integration(site, signal)
      if (site === this.installing) renderIntegration(byId('integration-body'), body, getK())
    } catch (err) {
      if (signal.aborted) return
      if (err instanceof ApiError && err.signsOut && !client.shared) return this.signOut(err.status === 401 ? STALE_KEY_MESSAGE : err.message)
      byId('integration-body').replaceChildren(el('p', { class: 'card-error', role: 'alert' }, err instanceof Error ? err.message : String(err)))
    }
  }

  private async loadAdoption(): Promise<void> {
    const client = this.client
    const feature = this.view.feature
    this.adoptionLoading?.abort()
    if (!client || !this.view.site || !feature) return
    const abort = new AbortController()
    this.adoptionLoading = abort
    const range = this.range
    const scope = this.scope()
    await this.track(
      Promise.allSettled([
        this.guard('adoption', abort.signal, client.adoption(scope, feature, range.interval, abort.signal), (body) => this.renderAdoption(body, range)),
        this.guard('cohorts', abort.signal, client.cohorts(scope, feature, abort.signal), (body) => renderCohorts(this.body('cohorts'), body)),
      ]),
    )
  }

  private setFunnelSteps(steps: string[]): void {
    this.funnelSteps = steps
    renderFunnelSteps(byId('funnel-steps'), steps, (next) => this.setFunnelSteps(next))
    byId<HTMLButtonElement>('funnel-add').disabled = steps.length >= FUNNEL_MAX
  }

  private readFunnelInputs(): void {
    this.funnelSteps = this.funnelSteps.map((_, i) => byId<HTMLInputElement>(`funnel-step-${i}`).value.trim())
  }

  /** Suggestions for the funnel's steps: the top pages and event names under the same scope. */
  private suggestFunnel(tab: Tab, body: Breakdown): void {
    const values = body.rows.map((r) => r.value).filter(Boolean)
    if (tab.dimension === 'url_path') this.funnelPages = values
    else if (tab.dimension === 'name') this.funnelEvents = values
    else return
    renderFunnelOptions(byId<HTMLDataListElement>('funnel-options'), this.funnelPages, this.funnelEvents)
    if (tab.dimension === 'url_path' && this.funnelSteps.every((s) => !s) && values.length >= 2) this.setFunnelSteps(values.slice(0, 2).map((p) => `pageview:${p}`))
  }

  /**
   * The features seen by k visitors, then the chosen one's adoption and cohorts. A feature named in the
   * URL is asked for at once, in parallel with its list, rather than after it.
   */
  private async loadFeatures(client: StatsClient, scope: Scope, signal: AbortSignal): Promise<void> {
    const early = this.view.feature ? this.loadAdoption() : undefined
    const wanted = this.view.feature
    await this.guard('adoption', signal, client.breakdown(scope, { dimension: 'name', type: 'feature', limit: FEATURE_LIMIT }, signal), async (body) => {
      this.showFeatures(body as unknown as BreakdownResponse)
      if (!early || this.view.feature !== wanted) await this.loadAdoption()
    })
    await early
  }

  private async loadFunnel(): Promise<void> {
    const client = this.client
    if (!client) return
    const steps = this.funnelSteps.filter(Boolean)
    if (steps.length < 2) {
      this.body('funnel').replaceChildren(el('p', { class: 'card-error', role: 'alert' }, 'Give at least two steps.'))
      return
    }
    this.funnelLoading?.abort()
    const abort = new AbortController()
    this.funnelLoading = abort
    await this.track(this.guard('funnel', abort.signal, client.funnel(this.scope(), steps, abort.signal), (body) => renderFunnel(this.body('funnel'), body)))
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
    const section = card === 'metrics' ? byId('metrics') : byId(`card-${card}`)
    section.setAttribute('aria-busy', 'true')
    try {
      const body = await request
      if (signal.aborted) return
      section.querySelector('.card-error')?.remove()
      await render(body)
    } catch (err) {
      if (signal.aborted || (err as Error).name === 'AbortError') return
      const client = this.client
      if (err instanceof ApiError && client?.shared && err.status === 404) return this.showGone(err)
      if (err instanceof ApiError && err.signsOut && !client?.shared) {
        this.signOut(err.status === 401 ? STALE_KEY_MESSAGE : err.message)
        return
      }
      const host = card === 'metrics' ? section : this.body(card)
      host.replaceChildren(el('p', { class: 'card-error', role: 'alert' }, err instanceof Error ? err.message : String(err)))
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
    byId('range-label').textContent = `${describeRange(this.range)}, by ${PERIOD[this.range.interval].noun}`
    byId('range-error').textContent = ''
  }

  private renderTraffic(body: TimeseriesResponse & { until?: string }, range: ResolvedRange): void {
    type Bucket = TimeseriesResponse['buckets'][number]
    const slots = alignBuckets(range, body.buckets, body.until ? bucketMs(body.until) : Date.now())
    const shown = slots.filter((s) => !s.hidden)
    const { noun, article } = PERIOD[range.interval]
    this.chartCard('traffic', `Visitors and pageviews per ${noun}`)
    const hidden = slots.length - shown.length
    // With every period that had events hidden, a busiest period would read as a true zero.
    const total = (value: number) => (hidden > 0 && !shown.some((s) => s.bucket) ? null : value)
    renderTiles(byId('traffic-tiles'), [
      { label: `Most visitors in ${article} ${noun}`, value: total(Math.max(0, ...shown.map((s) => count(s, (b: Bucket) => b.visitors) ?? 0))) },
      { label: `Hidden ${noun}s`, value: hidden, note: `fewer than k = ${body.k} visitors` },
    ])
    this.drawChart('traffic', {
      xs: slots.map((s) => s.ms),
      hidden: slots.map((s) => s.hidden),
      series: [
        { label: 'Visitors', values: slots.map((s) => count(s, (b) => b.visitors)) },
        { label: 'Pageviews', values: slots.map((s) => count(s, (b) => b.pageviews)) },
      ],
      interval: range.interval,
      range: fullRange(range),
    })
    renderTable(
      byId('traffic-table'),
      `Visitors, pageviews and visits per ${noun} (UTC)`,
      [capitalize(noun), 'Visitors', 'Pageviews', 'Visits'],
      slots.map((s) => ({
        key: s.t,
        hidden: s.hidden,
        cells: [bucketLabel(s.ms, range.interval), count(s, (b) => b.visitors), count(s, (b) => b.pageviews), count(s, (b) => b.sessions)],
      })),
    )
    byId('k-note').textContent = `Counts seen by fewer than k = ${body.k} distinct visitors read “< ${body.k}”, never zero, and values they alone have are only counted in “Other”. Periods that have not begun are not drawn.`
  }

  private showFeatures(body: BreakdownResponse): void {
    const select = byId<HTMLSelectElement>('feature')
    const features = body.rows.map((r) => r.value)
    select.replaceChildren(...features.map((f) => el('option', { value: f }, f)))
    select.disabled = features.length === 0
    const feature = features.includes(this.view.feature ?? '') ? this.view.feature : features[0]
    this.view = { ...this.view, ...(feature ? { feature } : { feature: undefined }) }
    history.replaceState(null, '', formatViewState(this.view))
    if (feature) select.value = feature
    else {
      this.adoptionLoading?.abort()
      this.charts.get('adoption')?.destroy()
      this.charts.delete('adoption')
      this.body('adoption').replaceChildren(el('p', { class: 'empty' }, 'No feature used by at least k visitors in this range.'))
      this.body('cohorts').replaceChildren(el('p', { class: 'empty' }, 'No feature to follow: cohorts need a feature used by at least k visitors.'))
    }
  }

  private renderAdoption(body: AdoptionResponse, range: ResolvedRange): void {
    const slots = alignBuckets(range, body.buckets, Date.now())
    const shown = slots.filter((s) => !s.hidden)
    const { noun, article } = PERIOD[range.interval]
    this.chartCard('adoption', `Accounts using ${body.feature} per ${noun}`)
    const hidden = slots.length - shown.length
    const total = (value: number) => (hidden > 0 && !shown.some((s) => s.bucket) ? null : value)
    renderTiles(byId('adoption-tiles'), [
      { label: `Most accounts in ${article} ${noun}`, value: total(Math.max(0, ...shown.map((s) => count(s, (b) => b.accounts) ?? 0))) },
      {
        label: 'Feature events',
        value: total(shown.reduce((n, s) => n + (count(s, (b) => b.events) ?? 0), 0)),
        note: hidden > 0 ? `not counting hidden ${noun}s` : undefined,
      },
      { label: `Hidden ${noun}s`, value: hidden, note: `fewer than k = ${body.k} accounts or visitors` },
    ])
    this.drawChart('adoption', {
      xs: slots.map((s) => s.ms),
      hidden: slots.map((s) => s.hidden),
      series: [{ label: 'Accounts', values: slots.map((s) => count(s, (b) => b.accounts)) }],
      interval: range.interval,
      range: fullRange(range),
    })
    renderTable(
      byId('adoption-table'),
      `Accounts using ${body.feature} per ${noun} (UTC)`,
      [capitalize(noun), 'Accounts', 'Visitors', 'Events'],
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
  /** The API's bucket; absent for a past period without any event, which counts as zero. */
  bucket: B | undefined
}

/** Every bucket of the range that has begun by `until`: the API's, and the periods it left out because nothing happened. */
function alignBuckets<B extends { t: string; hidden: boolean }>(range: ResolvedRange, buckets: readonly B[], until: number): Slot<B>[] {
  const byMs = new Map(buckets.map((b) => [bucketMs(b.t), b]))
  const all = [...new Set([...bucketStarts(range, until), ...byMs.keys()])].sort((a, b) => a - b)
  return all.map((ms) => {
    const bucket = byMs.get(ms)
    const t = bucket?.t ?? (range.interval === 'hour' ? new Date(ms).toISOString().slice(0, 19) : isoDay(ms))
    return { t, ms, hidden: bucket?.hidden ?? false, bucket }
  })
}

/** The first and last bucket start of the whole range: the chart's x axis, whether or not the last buckets have begun. */
function fullRange(range: ResolvedRange): [number, number] {
  const starts = bucketStarts(range)
  return [starts[0]!, starts.at(-1)!]
}

/** A slot's count: null when hidden, 0 for a period without events. */
function count<B>(slot: Slot<B>, pick: (b: B) => number | null): number | null {
  return slot.bucket ? pick(slot.bucket) : 0
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)


new Dashboard().start()
