/** k-anonymity for stats answers: pure, so every rule is unit-tested without a warehouse. */

export interface SeriesCounts {
  t: string
  visitors: number
  pageviews: number
  events: number
  sessions: number
}

export interface HideableSeriesBucket {
  t: string
  hidden: boolean
  visitors: number | null
  pageviews: number | null
  events: number | null
  sessions: number | null
}

/** A bucket seen by fewer than k distinct visitors keeps its place but shows no count at all. */
export function hideSmallBuckets(buckets: readonly SeriesCounts[], k: number): HideableSeriesBucket[] {
  return buckets.map((b) =>
    b.visitors < k
      ? { t: b.t, hidden: true, visitors: null, pageviews: null, events: null, sessions: null }
      : { t: b.t, hidden: false, visitors: b.visitors, pageviews: b.pageviews, events: b.events, sessions: b.sessions },
  )
}

export interface AdoptionCounts {
  t: string
  accounts: number
  visitors: number
  events: number
}

/** Adoption buckets: hidden unless both the accounts and the visitors behind them number at least k. */
export function hideSmallAdoption(buckets: readonly AdoptionCounts[], k: number) {
  return buckets.map((b) =>
    b.accounts < k || b.visitors < k
      ? { t: b.t, hidden: true, accounts: null, visitors: null, events: null }
      : { t: b.t, hidden: false, accounts: b.accounts, visitors: b.visitors, events: b.events },
  )
}

export interface BreakdownCounts {
  value: string
  visitors: number
  events: number
}

export interface KAnonymousBreakdown {
  rows: BreakdownCounts[]
  other: { visitors: number; events: number } | null
}

/**
 * Top `limit` values by visitors, each seen by at least k visitors. `rest` is the warehouse's
 * aggregate of every value not in `top` (visitors merged from sketches, so one visitor counts once);
 * values of `top` that fail k here are folded into it by the caller's second query, never shown.
 * "other" is shown only when it holds at least k visitors.
 */
export function kAnonymousBreakdown(top: readonly BreakdownCounts[], rest: { visitors: number; events: number }, k: number, limit: number): KAnonymousBreakdown {
  const rows = [...top]
    .filter((r) => r.visitors >= k)
    .sort((a, b) => b.visitors - a.visitors || b.events - a.events || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, limit)
  const other = rest.visitors >= k ? { visitors: rest.visitors, events: rest.events } : null
  return { rows, other }
}

/** The values a breakdown may name: what kAnonymousBreakdown keeps. Everything else belongs to "other". */
export function keptValues(top: readonly BreakdownCounts[], k: number, limit: number): string[] {
  return kAnonymousBreakdown(top, { visitors: 0, events: 0 }, k, limit).rows.map((r) => r.value)
}

/**
 * Hides counts under k in one column of a table whose total is also published, then hides the
 * smallest further cells until the hidden ones sum to at least k (or all are hidden), so no
 * hidden cell can be recovered by subtracting the shown ones from the total. A 0 is shown: it
 * singles nobody out. The total itself is hidden when under k (but 0).
 */
export function suppressColumn(values: readonly number[], k: number): { cells: (number | null)[]; total: number | null } {
  const total = values.reduce((a, b) => a + b, 0)
  const hidden = values.map((v) => v > 0 && v < k)
  let hiddenSum = values.reduce((sum, v, i) => (hidden[i] ? sum + v : sum), 0)
  if (total >= k) {
    const order = values.map((v, i) => ({ v, i })).filter(({ v, i }) => v > 0 && !hidden[i]).sort((a, b) => a.v - b.v)
    for (const { v, i } of order) {
      if (hiddenSum === 0 || hiddenSum >= k) break
      hidden[i] = true
      hiddenSum += v
    }
  }
  return { cells: values.map((v, i) => (hidden[i] ? null : v)), total: total === 0 || total >= k ? total : null }
}

/** grants / (grants + refusals), only when both totals are shown. */
export function grantRate(grants: number | null, refusals: number | null): number | null {
  if (grants === null || refusals === null || grants + refusals === 0) return null
  return grants / (grants + refusals)
}

/**
 * True when a `!=`/`!~` clause alone removed between 1 and k−1 visitors (columns n_removed_*): the answer
 * with and without that clause would differ by those few people, so it must not be shown.
 */
export function singlesOutByComplement(row: Readonly<Record<string, unknown>>, k: number): boolean {
  return Object.entries(row).some(([name, v]) => name.startsWith('n_removed_') && Number(v) > 0 && Number(v) < k)
}

/** Buckets already shown under k hidden too when their complement singles people out. */
export function hideLeakingBuckets<B extends { t: string; hidden: boolean }>(buckets: readonly B[], raw: readonly Record<string, unknown>[], k: number, hide: (b: B) => B): B[] {
  const leaking = new Set(raw.filter((r) => singlesOutByComplement(r, k)).map((r) => String(r.t)))
  return buckets.map((b) => (!b.hidden && leaking.has(b.t) ? hide(b) : b))
}
