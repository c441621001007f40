// How numbers and dimension values read on the page. A count hidden by k-anonymity is `null`: it reads
// as "< k" (fewer than k visitors), never as 0.

import { el } from './dom.js'

const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 })
const percent = new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1 })

/** The threshold of the answers on screen, set by the last answer read (every answer carries k). */
let currentK = 5
export const setK = (k: number) => {
  currentK = k
}
export const getK = () => currentK

/** What a hidden value reads as. */
export const hiddenText = (k = currentK) => `< ${k}`
export const hiddenTitle = (k = currentK) => `Hidden: fewer than k = ${k} visitors, so it is not shown (k-anonymity)`

export const formatCount = (n: number | null): string => (n === null ? hiddenText() : integer.format(n))
export const formatDecimal = (n: number | null): string => (n === null ? hiddenText() : decimal.format(n))
export const formatRate = (r: number | null): string => (r === null ? hiddenText() : percent.format(r))

/** Seconds as "1m 05s", "2h 03m", "42s". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return hiddenText()
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** A number cell: the value, or a "< k" hint with a tooltip that says why. */
export function valueNode(text: string, hidden: boolean): HTMLElement {
  return hidden ? el('span', { class: 'hidden-value', title: hiddenTitle(), 'data-hidden': 'true' }, text) : el('span', {}, text)
}

/** A change as the headline cards show it: a relative change in percent, or a difference of rates in points. */
export function formatChange(change: number, points: boolean): string {
  const magnitude = Math.abs(change)
  const text = points ? `${decimal.format(Math.round(magnitude * 1000) / 10)} pp` : percent.format(magnitude)
  return `${change > 0 ? '▲' : change < 0 ? '▼' : '■'} ${text}`
}

let regions: Intl.DisplayNames | undefined
/** A country code with its English name, e.g. "DE · Germany"; the warehouse stores "" when geo found nothing. */
export function countryLabel(code: string): string {
  if (!code) return 'Unknown'
  regions ??= new Intl.DisplayNames(['en'], { type: 'region' })
  let name: string | undefined
  try {
    name = regions.of(code)
  } catch {
    name = undefined
  }
  return name && name !== code ? `${code} · ${name}` : code
}

/** Labels for values kept as empty strings. */
export function valueLabel(dimension: string, value: string): string {
  if (dimension === 'country') return countryLabel(value)
  if (value) return value
  if (dimension === 'referrer_host') return '(direct or none)'
  if (dimension === 'name') return '(pageviews)'
  return '(none)'
}
