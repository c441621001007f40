// Order statistics and number formatting shared by every benchmark; figures are medians of repeated runs.

/** Median of finite numbers; NaN when there are none. */
export function median(values) {
  return quantile(values, 0.5)
}

/** Linear-interpolated quantile (q in [0, 1]) of finite numbers; NaN when there are none. */
export function quantile(values, q) {
  const xs = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (xs.length === 0) return Number.NaN
  const pos = (xs.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
}

/** Least-squares slope of y over x (same length); NaN with fewer than two points. */
export function slope(xs, ys) {
  const n = Math.min(xs.length, ys.length)
  if (n < 2) return Number.NaN
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n
  let num = 0
  let den = 0
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my)
    den += (xs[i] - mx) ** 2
  }
  return den === 0 ? Number.NaN : num / den
}

/** 12,345 style integers; '—' for a missing figure. */
export function int(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—'
}

/** Fixed decimals; '—' for a missing figure. */
export function fixed(n, digits = 1) {
  return Number.isFinite(n) ? n.toFixed(digits) : '—'
}

/** A ratio as a percentage, e.g. 0.734 → 73%. */
export function pct(r) {
  return Number.isFinite(r) ? `${Math.round(r * 100)}%` : '—'
}

/** The runs behind a median, for the detail tables: "1,234 / 1,301 / 1,290". */
export function runs(values, format = int) {
  return values.map((v) => format(v)).join(' / ')
}
