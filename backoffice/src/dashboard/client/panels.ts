import type { ConsentResponse } from '@atspark/schemas'
import { el } from './dom.js'
import { formatCount, formatRate, valueNode } from './format.js'

export interface Tile {
  label: string
  value: number | null
  note?: string
  /** How the value reads; a count unless told. */
  format?: (value: number | null) => string
}

/** Numbers above a chart; a hidden one reads "< k". */
export function renderTiles(host: HTMLElement, tiles: Tile[]): void {
  host.replaceChildren(...tileNodes(tiles))
}

function tileNodes(tiles: Tile[]): HTMLElement[] {
  return tiles.map((t) =>
    el(
      'div',
      { class: t.value === null ? 'tile is-hidden' : 'tile', 'data-tile': t.label },
      el('span', { class: 'tile-label' }, t.label),
      el('output', { class: 'tile-value' }, valueNode((t.format ?? formatCount)(t.value), t.value === null)),
      t.note ? el('span', { class: 'tile-note' }, t.note) : undefined,
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
            i === 0 ? el('th', { scope: 'row' }, String(c)) : el('td', { class: 'num' }, typeof c === 'number' || c === null ? valueNode(formatCount(c), c === null) : c),
          ),
        ),
      ),
    ),
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
      ...tileNodes([
        { label: 'Grant rate', value: body.grant_rate, format: formatRate },
        { label: 'Grants', value: body.grants },
        { label: 'Refusals', value: body.refusals },
      ]),
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
            el('td', { class: s.grants === null ? 'num is-hidden' : 'num' }, valueNode(formatCount(s.grants), s.grants === null)),
            el('td', { class: s.refusals === null ? 'num is-hidden' : 'num' }, valueNode(formatCount(s.refusals), s.refusals === null)),
          ),
        ),
      ),
    ),
  )
}
