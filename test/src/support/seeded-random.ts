import { randomInt } from 'node:crypto'

/** A reproducible source of a suite's random choices: mulberry32, seeded from ATSPARK_TEST_SEED or at random. */
export interface SeededRandom {
  readonly seed: number
  /** A float in [0, 1). */
  next(): number
  /** An integer in [0, n). */
  int(n: number): number
  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[]
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  const int = (n: number) => Math.floor(next() * n)
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(i + 1)
      ;[out[i], out[j]] = [out[j] as T, out[i] as T]
    }
    return out
  }
  return { seed: seed >>> 0, next, int, shuffle }
}

/** The seed a suite runs with: ATSPARK_TEST_SEED to replay a failure, else a fresh one (printed on failure by the suite). */
export function suiteSeed(): number {
  const given = process.env.ATSPARK_TEST_SEED
  if (given !== undefined && given !== '') {
    const n = Number(given)
    if (!Number.isInteger(n) || n < 0) throw new Error(`ATSPARK_TEST_SEED must be a non-negative integer, got ${given}`)
    return n
  }
  return randomInt(2 ** 31)
}
