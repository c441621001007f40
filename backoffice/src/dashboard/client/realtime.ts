import { el } from './dom.js'
import { formatCount, hiddenText, hiddenTitle } from './format.js'
import type { RealtimeResponse } from './types.js'

const SVG = 'http://www.w3.org/2000/svg'
const svg = <K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] => {
  const node = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value))
  return node
}

/** Visitors in the last 5 minutes and a bar per minute of events over the last 30; hidden minutes are grey stubs, not zeros. */
export function renderRealtime(host: HTMLElement, body: RealtimeResponse): void {
  const hidden = body.visitors_5m === null
  const width = 300
  const height = 48
  const step = width / Math.max(1, body.minutes.length)
  const max = Math.max(1, ...body.minutes.map((m) => m.events ?? 0))
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', class: 'sparkline', role: 'img', 'aria-label': `Events per minute over the last ${body.minutes.length} minutes` })
  body.minutes.forEach((m, i) => {
    // A quiet minute is a 1-unit stub on the baseline, a hidden one a grey block: neither reads as missing.
    const h = m.events === null ? 6 : Math.max(1, (m.events / max) * (height - 2))
    const kind = m.events === null ? 'spark-hidden' : m.events === 0 ? 'spark-bar spark-zero' : 'spark-bar'
    const bar = svg('rect', { x: (i * step + 1).toFixed(1), y: (height - h).toFixed(1), width: Math.max(1, step - 2).toFixed(1), height: h.toFixed(1), class: kind, 'data-t': m.t })
    const title = svg('title', {})
    title.textContent = `${m.t.slice(11)} UTC: ${m.events === null ? `hidden (fewer than ${body.k} visitors)` : `${formatCount(m.events)} events`}`
    bar.append(title)
    chart.append(bar)
  })
  host.replaceChildren(
    el(
      'p',
      { class: 'realtime-now' },
      el('span', { class: 'live-dot', 'aria-hidden': 'true' }),
      el('output', { class: 'realtime-value', id: 'realtime-visitors', title: hidden ? hiddenTitle(body.k) : undefined }, hidden ? hiddenText(body.k) : formatCount(body.visitors_5m)),
      el('span', { class: 'realtime-label' }, ' visitors in the last 5 minutes'),
    ),
    chart,
    el('p', { class: 'realtime-when' }, `Events per minute, last 30 minutes · updated ${body.now.slice(11, 19)} UTC`),
  )
  host.dataset.now = body.now
}
