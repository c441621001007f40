import type { BreakdownQuery } from './api.js'
import { el } from './dom.js'
import { dimensionLabel } from './filters.js'
import { formatCount, formatRate, valueLabel, valueNode } from './format.js'
import type { Breakdown, Row } from './types.js'

/** One tab of a breakdown panel: the dimension it asks for and how its columns read. */
export interface Tab {
  id: string
  label: string
  dimension: string
  type?: string
  /** What `events` counts here, e.g. "Views". */
  events: string
}

export interface Panel {
  id: string
  title: string
  tabs: Tab[]
}

export const BREAKDOWN_LIMIT = 10

/** The breakdown panels, each with its tabs; every row of every tab filters the whole page when clicked. */
export const PANELS: readonly Panel[] = [
  {
    id: 'pages',
    title: 'Pages',
    tabs: [
      { id: 'pages', label: 'Pages', dimension: 'url_path', type: 'pageview', events: 'Views' },
      { id: 'entry', label: 'Entry', dimension: 'entry_page', events: 'Events' },
      { id: 'exit', label: 'Exit', dimension: 'exit_page', events: 'Events' },
    ],
  },
  {
    id: 'sources',
    title: 'Sources',
    tabs: [
      { id: 'channels', label: 'Channels', dimension: 'channel', events: 'Events' },
      { id: 'referrers', label: 'Referrers', dimension: 'referrer_host', type: 'pageview', events: 'Views' },
      { id: 'utm-source', label: 'UTM source', dimension: 'utm_source', events: 'Events' },
      { id: 'utm-medium', label: 'UTM medium', dimension: 'utm_medium', events: 'Events' },
      { id: 'utm-campaign', label: 'Campaigns', dimension: 'utm_campaign', events: 'Events' },
    ],
  },
  { id: 'countries', title: 'Countries', tabs: [{ id: 'countries', label: 'Countries', dimension: 'country', events: 'Events' }] },
  {
    id: 'devices',
    title: 'Devices',
    tabs: [
      { id: 'browsers', label: 'Browsers', dimension: 'browser', events: 'Events' },
      { id: 'os', label: 'OS', dimension: 'os', events: 'Events' },
      { id: 'devices', label: 'Devices', dimension: 'device_type', events: 'Events' },
    ],
  },
  {
    id: 'events',
    title: 'Events',
    tabs: [
      { id: 'custom', label: 'Custom', dimension: 'name', type: 'custom', events: 'Events' },
      { id: 'clicks', label: 'Clicks', dimension: 'name', type: 'click', events: 'Clicks' },
      { id: 'features', label: 'Features', dimension: 'name', type: 'feature', events: 'Uses' },
      { id: 'queries', label: 'Queries', dimension: 'name', type: 'query', events: 'Runs' },
    ],
  },
  { id: 'goals', title: 'Goals', tabs: [{ id: 'goals', label: 'Goals', dimension: 'goal', events: 'Completions' }] },
]

export const tabQuery = (tab: Tab): BreakdownQuery => ({ dimension: tab.dimension, ...(tab.type ? { type: tab.type } : {}), limit: BREAKDOWN_LIMIT })

export interface PanelHandlers {
  selectTab(panel: Panel, tab: Tab): void
  download(panel: Panel, tab: Tab): void
}

/** The panel's heading: its tabs (a tablist of buttons) and its CSV download. */
export function renderPanelHead(section: HTMLElement, panel: Panel, current: Tab, handlers: PanelHandlers): void {
  const head = section.querySelector<HTMLElement>('.card-head')!
  const tabs =
    panel.tabs.length > 1
      ? el(
          'div',
          { class: 'tabs', role: 'tablist', 'aria-label': `${panel.title} by` },
          ...panel.tabs.map((tab, i) => {
            const button = el(
              'button',
              { type: 'button', role: 'tab', 'data-tab': tab.id, 'aria-selected': String(tab === current), 'aria-controls': `card-${panel.id}-body`, tabindex: tab === current ? 0 : -1 },
              tab.label,
            )
            button.addEventListener('click', () => handlers.selectTab(panel, tab))
            // The ARIA tabs pattern: one tab stop, arrow keys move between tabs.
            button.addEventListener('keydown', (e) => {
              const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0
              if (!step) return
              e.preventDefault()
              const next = panel.tabs[(i + step + panel.tabs.length) % panel.tabs.length]!
              handlers.selectTab(panel, next)
              section.querySelector<HTMLButtonElement>(`[data-tab="${next.id}"]`)?.focus()
            })
            return button
          }),
        )
      : undefined
  const csv = el('button', { type: 'button', class: 'csv', 'data-csv': current.id, 'aria-label': `Download ${current.label} as CSV` }, 'CSV')
  csv.addEventListener('click', () => handlers.download(panel, current))
  head.replaceChildren(el('h2', { id: `${panel.id}-title` }, panel.title), ...(tabs ? [tabs] : []), csv)
}

export interface RowOptions {
  /** The value this dimension is filtered on now, if any. */
  active: string | undefined
  /** Visitors of the whole page under the same filters: the goals' conversion rate is over them. */
  totalVisitors?: number | null
  filter(dimension: string, value: string): void
}

/** Top values with bars scaled to the busiest, then "other"; each value is a button that filters by it. */
export function renderBreakdown(host: HTMLElement, body: Breakdown, tab: Tab, options: RowOptions): void {
  if (body.rows.length === 0 && body.other === null) {
    host.replaceChildren(el('p', { class: 'empty' }, tab.dimension === 'goal' ? 'No goal reached by at least k visitors in this range.' : 'No data in this range (or every value was seen by fewer than k visitors).'))
    return
  }
  const visits = body.rows.some((r) => r.visits !== undefined)
  const goals = tab.dimension === 'goal'
  const max = Math.max(1, ...body.rows.map((r) => r.visitors), body.other?.visitors ?? 0)
  const bar = (visitors: number) => {
    const span = el('span', { class: 'bar', 'aria-hidden': 'true' })
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    span.style.width = `${((visitors / max) * 100).toFixed(1)}%`
    return span
  }
  const rate = (r: Row): number | null | undefined => {
    if (r.conversion_rate !== undefined) return r.conversion_rate
    if (!goals) return undefined
    return options.totalVisitors ? r.visitors / options.totalVisitors : null
  }
  const cells = (r: { visitors: number; events: number; visits?: number }, conversion: number | null | undefined) => [
    el('td', { class: 'num' }, formatCount(r.visitors)),
    el('td', { class: 'num secondary' }, formatCount(visits ? (r.visits ?? r.events) : r.events)),
    goals ? el('td', { class: 'num' }, conversion === undefined ? '' : valueNode(formatRate(conversion), conversion === null)) : undefined,
  ]
  const row = (r: Row) => {
    const label = valueLabel(body.dimension, r.value)
    const active = options.active === r.value
    const words = `${dimensionLabel(tab.dimension)} is ${label}`
    const button = el(
      'button',
      { type: 'button', class: 'row-filter', 'aria-pressed': String(active), title: active ? `Remove the filter ${words}` : `Filter the whole dashboard: ${words}` },
      bar(r.visitors),
      el('span', { class: 'label-text' }, label),
    )
    button.addEventListener('click', () => options.filter(tab.dimension, r.value))
    return el('tr', { 'data-value': r.value, class: active ? 'is-active' : undefined }, el('th', { scope: 'row', class: 'label' }, button), ...cells(r, rate(r)))
  }
  const table = el(
    'table',
    { class: 'breakdown', id: `card-${tab.id}-table` },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { scope: 'col' }, tab.dimension === 'goal' ? 'Goal' : dimensionLabel(tab.dimension)),
        el('th', { scope: 'col', class: 'num' }, goals ? 'Uniques' : 'Visitors'),
        el('th', { scope: 'col', class: 'num secondary' }, visits ? 'Visits' : tab.events),
        goals ? el('th', { scope: 'col', class: 'num', title: 'converted visitors / all visitors under the same filters' }, 'CR') : undefined,
      ),
    ),
    el('tbody', {}, ...body.rows.map(row)),
    body.other
      ? el(
          'tfoot',
          {},
          el(
            'tr',
            { 'data-value': '(other)', class: 'other' },
            el('th', { scope: 'row', class: 'label' }, bar(body.other.visitors), el('span', { class: 'label-text', title: 'every value not listed, including those seen by fewer than k visitors' }, 'Other')),
            ...cells(body.other, undefined),
          ),
        )
      : undefined,
  )
  host.replaceChildren(table)
}
