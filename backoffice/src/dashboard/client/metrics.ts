import { el } from './dom.js'
import { formatChange, formatCount, formatDecimal, formatDuration, formatRate, hiddenText, hiddenTitle } from './format.js'
import type { AggregateResponse, Metric, MetricName } from './types.js'

interface Card {
  metric: MetricName
  label: string
  format: (n: number | null) => string
  /** Rates change in points (value − previous), the rest relatively. */
  points?: boolean
  /** A rise is bad news (bounce rate). */
  lowerIsBetter?: boolean
}

const CARDS: readonly Card[] = [
  { metric: 'visitors', label: 'Unique visitors', format: formatCount },
  { metric: 'visits', label: 'Visits', format: formatCount },
  { metric: 'pageviews', label: 'Pageviews', format: formatCount },
  { metric: 'bounce_rate', label: 'Bounce rate', format: formatRate, points: true, lowerIsBetter: true },
  { metric: 'visit_duration_median', label: 'Visit duration', format: formatDuration },
  { metric: 'views_per_visit', label: 'Views per visit', format: formatDecimal },
]

const GOAL_CARDS: readonly Card[] = [
  { metric: 'conversions', label: 'Conversions', format: formatCount },
  { metric: 'conversion_rate', label: 'Conversion rate', format: formatRate, points: true },
]

/** The headline cards: each value of /aggregate with its change against the previous period of the same length. */
export function renderMetrics(host: HTMLElement, body: AggregateResponse, period: string): void {
  const cards = [...(body.metrics.conversions ? GOAL_CARDS : []), ...CARDS]
  host.replaceChildren(...cards.map((card) => metricCard(card, body.metrics[card.metric], period, body)))
  host.dataset.goal = body.goal ?? ''
}

function metricCard(card: Card, metric: Metric | undefined, period: string, body: AggregateResponse): HTMLElement {
  const value = metric?.value ?? null
  const hidden = value === null
  const note = card.metric === 'visit_duration_median' && body.metrics.visit_duration_mean ? `median; mean ${formatDuration(body.metrics.visit_duration_mean.value)}` : undefined
  return el(
    'div',
    { class: hidden ? 'metric is-hidden' : 'metric', 'data-metric': card.metric },
    el('span', { class: 'metric-label' }, card.label),
    el('output', { class: 'metric-value', title: hidden ? hiddenTitle(body.k) : undefined }, hidden ? hiddenText(body.k) : card.format(value)),
    changeNode(card, metric, period),
    note ? el('span', { class: 'metric-note' }, note) : undefined,
  )
}

function changeNode(card: Card, metric: Metric | undefined, period: string): HTMLElement | undefined {
  if (!metric || metric.previous === undefined) return undefined
  const change = metric.change ?? null
  const vs = `vs previous ${period}`
  if (change === null) {
    const why = metric.value === null ? 'hidden' : metric.previous === null ? 'too few visitors then' : 'nothing then'
    return el('span', { class: 'change none', 'data-change': '' }, el('span', { class: 'change-value' }, '–'), el('span', { class: 'change-vs' }, ` ${vs}: ${why}`))
  }
  const good = change === 0 ? 'flat' : change > 0 !== Boolean(card.lowerIsBetter) ? 'good' : 'bad'
  const text = formatChange(change, Boolean(card.points))
  const words = `${change > 0 ? 'up' : change < 0 ? 'down' : 'unchanged'} ${text.slice(2)} ${vs}`
  return el(
    'span',
    { class: `change ${good}`, 'data-change': String(change), 'data-previous': metric.previous === null ? '' : String(metric.previous) },
    el('span', { class: 'change-value', 'aria-label': words }, text),
    el('span', { class: 'change-vs', 'aria-hidden': 'true' }, ` ${vs}`),
  )
}
