import uPlot from 'uplot'
import { el } from './dom.js'
import { formatCount, hiddenText } from './format.js'
import type { Interval } from './range.js'

/** Series colours, in the order series are given; app.css gives the legend swatches the same (.swatch-0, .swatch-1). */
const PALETTE = ['#2f6fde', '#d9480f'] as const
const HIDDEN_FILL = 'rgba(120, 130, 150, 0.16)'

export interface ChartSeries {
  label: string
  /** One per bucket; null where k-anonymity hid the bucket. */
  values: (number | null)[]
}

export interface ChartData {
  /** Bucket starts, epoch ms (UTC). */
  xs: number[]
  hidden: boolean[]
  series: ChartSeries[]
  interval: Interval
  /** The whole range's first and last instant (epoch ms): the axis spans it even where buckets have not begun. */
  range?: [number, number]
}

export interface TimeChart {
  destroy(): void
}

/** How a bucket is named in the legend, in UTC like the API's buckets. */
export function bucketLabel(ms: number, interval: Interval): string {
  const date = new Date(ms)
  const day = date.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' })
  if (interval === 'hour') return `${day}, ${date.toISOString().slice(11, 16)} UTC`
  return interval === 'week' ? `week of ${day}` : day
}

/**
 * A uPlot line chart of buckets over time, drawn in UTC and resized with its host. Hidden buckets
 * are gaps over a shaded band, never zeros; the legend below shows the hovered bucket's values.
 */
export function timeChart(host: HTMLElement, legend: HTMLElement, data: ChartData): TimeChart {
  host.replaceChildren()
  const values = data.series.map(() => el('output', { class: 'value' }, '–'))
  const when = el('span', { class: 'when' })
  legend.replaceChildren(
    ...data.series.map((s, i) => el('li', { 'data-series': s.label }, el('span', { class: `swatch swatch-${i}`, 'aria-hidden': 'true' }), el('span', { class: 'name' }, s.label), values[i])),
    el('li', { class: 'when-item' }, when),
  )
  // Without a hovered period the legend shows the latest one.
  const showIdx = (hovered: number | null | undefined) => {
    const idx = hovered ?? data.xs.length - 1
    if (data.xs[idx] === undefined) return
    data.series.forEach((s, i) => {
      values[i]!.textContent = data.hidden[idx] ? hiddenText() : formatCount(s.values[idx] ?? 0)
    })
    when.textContent = bucketLabel(data.xs[idx]!, data.interval)
    legend.setAttribute('data-t', new Date(data.xs[idx]!).toISOString())
  }
  showIdx(null)

  const step = data.xs.length > 1 ? (data.xs[1]! - data.xs[0]!) / 1000 : 86_400
  const shadeHidden = (u: uPlot) => {
    const { ctx } = u
    ctx.save()
    ctx.fillStyle = HIDDEN_FILL
    data.hidden.forEach((hidden, i) => {
      if (!hidden) return
      const x0 = u.valToPos(data.xs[i]! / 1000 - step / 2, 'x', true)
      const x1 = u.valToPos(data.xs[i]! / 1000 + step / 2, 'x', true)
      ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height)
    })
    ctx.restore()
  }

  const options: uPlot.Options = {
    width: Math.max(host.clientWidth, 200),
    height: host.clientWidth < 480 ? 200 : 260,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    legend: { show: false },
    cursor: { y: false, drag: { x: false, y: false } },
    scales: { x: { time: true, ...(data.range ? { range: (): uPlot.Range.MinMax => [data.range![0] / 1000, data.range![1] / 1000] } : {}) }, y: { range: (_u, _min, max) => [0, niceMax(max)] } },
    axes: [
      { stroke: '#44506a', grid: { stroke: '#e4e8f0' }, ticks: { stroke: '#cdd3df' }, values: (_u, ticks, _axis, _space, incr) => ticks.map((t) => tickLabel(t, incr)) },
      { stroke: '#44506a', grid: { stroke: '#e4e8f0' }, ticks: { stroke: '#cdd3df' }, size: 48, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? formatCount(t) : '')) },
    ],
    series: [{}, ...data.series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false, points: { size: 5 } }))],
    hooks: { drawClear: [shadeHidden], setCursor: [(u) => showIdx(u.cursor.idx)] },
  }
  const chart = new uPlot(options, [data.xs.map((x) => x / 1000), ...data.series.map((s) => s.values)], host)
  // Charts follow their card's width: a laptop grid or one phone column.
  const resize = new ResizeObserver(() => {
    const width = Math.max(host.clientWidth, 200)
    if (width !== chart.width) chart.setSize({ width, height: width < 480 ? 200 : 260 })
  })
  resize.observe(host)
  return {
    destroy() {
      resize.disconnect()
      chart.destroy()
    },
  }
}

/** An x tick in UTC: "30 Oct" for day steps and longer, "13:00" within a day (with the day at midnight). */
function tickLabel(seconds: number, increment: number): string {
  const date = new Date(seconds * 1000)
  const day = date.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' })
  if (increment >= 86_400) return day
  const time = date.toISOString().slice(11, 16)
  return time === '00:00' ? day : time
}

/** A y-axis top that is never below 5, so a quiet range does not look busy. */
function niceMax(max: number | null): number {
  const m = Math.max(max ?? 0, 5)
  const magnitude = 10 ** Math.floor(Math.log10(m))
  return Math.ceil((m * 1.1) / magnitude) * magnitude
}
