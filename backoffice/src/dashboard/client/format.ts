// How numbers and dimension values read on the page. A count hidden by k-anonymity is `null` and
// reads as "hidden", never as 0.

export const HIDDEN = 'hidden'

const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 })
const percent = new Intl.NumberFormat('en-GB', { style: 'percent', maximumFractionDigits: 1 })

export const formatCount = (n: number | null): string => (n === null ? HIDDEN : integer.format(n))

export const formatRate = (r: number | null): string => (r === null ? HIDDEN : percent.format(r))

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

/** Labels for values the rollups keep as empty strings. */
export function valueLabel(dimension: string, value: string): string {
  if (dimension === 'country') return countryLabel(value)
  if (value) return value
  return dimension === 'referrer_host' ? '(direct or none)' : '(none)'
}
