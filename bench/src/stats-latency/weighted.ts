/** A weighted list as two query parameters: the values and their cumulative shares, picked in SQL by one uniform. */
export interface WeightedList<T> {
  values: T[]
  /** Cumulative shares in (0, 1]; the last is 2 so a uniform in [0, 1) always finds an index, whatever the rounding. */
  cum: number[]
}

export function weighted<T>(entries: readonly (readonly [T, number])[]): WeightedList<T> {
  const kept = entries.filter(([, w]) => w > 0)
  if (kept.length === 0) throw new Error('a weighted list needs at least one positive weight')
  const total = kept.reduce((sum, [, w]) => sum + w, 0)
  let acc = 0
  const cum = kept.map(([, w]) => {
    acc += w / total
    return acc
  })
  cum[cum.length - 1] = 2
  return { values: kept.map(([v]) => v), cum }
}

