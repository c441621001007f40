import type { BreakdownResponse, ConsentResponse } from '@atspark/schemas'
import { el } from './dom.js'
import { formatCount, formatRate, valueLabel } from './format.js'

export interface Tile {
  label: string
  value: number | null
  note?: string
}

/** Headline numbers above a chart; a hidden one reads "hidden". */
export function renderTiles(host: HTMLElement, tiles: Tile[]): void {
  host.replaceChildren(
    ...tiles.map((t) =>
      el(
        'div',
        { class: t.value === null ? 'tile is-hidden' : 'tile', 'data-tile': t.label },
        el('span', { class: 'tile-label' }, t.label),
        el('output', { class: 'tile-value' }, formatCount(t.value)),
        t.note ? el('span', { class: 'tile-note' }, t.note) : undefined,
      ),
    ),
  )
}

/** A plain table: the numbers behind a chart, for reading exactly and for screen readers. */
export function renderTable(host: HTMLElement, caption: string, head: string[], rows: { key: string; cells: (string | number | null)[]; hidden?: boolean }[]): void {
  const table = el(
    'table',
    { class: 'data' },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...head.map((h, i) => el('th', { scope: 'col', class: i > 0 ? 'num' : undefined }, h)))),
    el(
      'tbody',
      {},
      ...rows.map((r) =>
        el(
          'tr',
          { 'data-key': r.key, class: r.hidden ? 'is-hidden' : undefined },
          ...r.cells.map((c, i) =>
            i === 0 ? el('th', { scope: 'row' }, String(c)) : el('td', { class: 'num' }, typeof c === 'number' || c === null ? formatCount(c) : c),
          ),
        ),
      ),
    ),
  )
  host.replaceChildren(table)
}

export interface BreakdownLabels {
  /** The column of values, e.g. "Page". */
  value: string
  /** What `events` counts here, e.g. "Pageviews". */
  events: string
}

/** Top values with bars scaled to the busiest, then "other"; values under k are never named, so they only count in "other". */
export function renderBreakdown(host: HTMLElement, body: BreakdownResponse, labels: BreakdownLabels): void {
  if (body.rows.length === 0 && body.other === null) {
    host.replaceChildren(el('p', { class: 'empty' }, 'No data in this range.'))
    return
  }
  const max = Math.max(1, ...body.rows.map((r) => r.visitors), body.other?.visitors ?? 0)
  const bar = (visitors: number) => {
    const span = el('span', { class: 'bar', 'aria-hidden': 'true' })
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    span.style.width = `${((visitors / max) * 100).toFixed(1)}%`
    return span
  }
  const row = (key: string, label: string, visitors: number, events: number, extraClass?: string) =>
    el(
      'tr',
      { 'data-value': key, class: extraClass },
      el('th', { scope: 'row', class: 'label' }, bar(visitors), el('span', { class: 'label-text', title: label }, label)),
      el('td', { class: 'num' }, formatCount(visitors)),
      el('td', { class: 'num secondary' }, formatCount(events)),
    )
  const table = el(
    'table',
    { class: 'breakdown' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, labels.value), el('th', { scope: 'col', class: 'num' }, 'Visitors'), el('th', { scope: 'col', class: 'num secondary' }, labels.events))),
    el('tbody', {}, ...body.rows.map((r) => row(r.value, valueLabel(body.dimension, r.value), r.visitors, r.events))),
    body.other ? el('tfoot', {}, row('(other)', 'Other', body.other.visitors, body.other.events, 'other')) : undefined,
  )
  host.replaceChildren(table)
}

const SOURCE_LABELS: Readonly<Record<string, string>> = {
  banner: 'Consent banner',
  api: 'Settings / API',
  gpc: 'Global Privacy Control',
  dnt: 'Do Not Track',
  default: 'Site default',
}

/** Grant rate, grants and refusals, and receipts per source; counts under k read "hidden". */
export function renderConsent(host: HTMLElement, body: ConsentResponse): void {
  if (body.sources.length === 0) {
    host.replaceChildren(el('p', { class: 'empty' }, 'No consent receipts in this range.'))
    return
  }
  const split = el('div', { class: 'split', 'aria-hidden': 'true' })
  if (body.grants !== null && body.refusals !== null && body.grants + body.refusals > 0) {
    const grants = el('span', { class: 'split-grants' })
    grants.style.width = `${((body.grants / (body.grants + body.refusals)) * 100).toFixed(1)}%`
    split.append(grants, el('span', { class: 'split-refusals' }))
  }
  host.replaceChildren(
    el(
      'div',
      { class: 'tiles' },
      el('div', { class: body.grant_rate === null ? 'tile is-hidden' : 'tile', 'data-tile': 'Grant rate' }, el('span', { class: 'tile-label' }, 'Grant rate'), el('output', { class: 'tile-value' }, formatRate(body.grant_rate))),
      el('div', { class: body.grants === null ? 'tile is-hidden' : 'tile', 'data-tile': 'Grants' }, el('span', { class: 'tile-label' }, 'Grants'), el('output', { class: 'tile-value' }, formatCount(body.grants))),
      el('div', { class: body.refusals === null ? 'tile is-hidden' : 'tile', 'data-tile': 'Refusals' }, el('span', { class: 'tile-label' }, 'Refusals'), el('output', { class: 'tile-value' }, formatCount(body.refusals))),
    ),
    split,
    el(
      'table',
      { class: 'data' },
      el('caption', {}, 'Analytics consent receipts by source'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Source'), el('th', { scope: 'col', class: 'num' }, 'Grants'), el('th', { scope: 'col', class: 'num' }, 'Refusals'))),
      el(
        'tbody',
        {},
        ...body.sources.map((s) =>
          el(
            'tr',
            { 'data-value': s.source },
            el('th', { scope: 'row' }, SOURCE_LABELS[s.source] ?? s.source),
            el('td', { class: s.grants === null ? 'num is-hidden' : 'num' }, formatCount(s.grants)),
            el('td', { class: s.refusals === null ? 'num is-hidden' : 'num' }, formatCount(s.refusals)),
          ),
        ),
      ),
    ),
  )
}
