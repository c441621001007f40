import { onTestFailed } from 'vitest'
import { type SeededRandom, seededRandom, suiteSeed } from './seeded-random.js'

/** The running test's random choices, from `suiteSeed()`; the seed is printed if the test fails, to replay it. */
export function testRandom(): SeededRandom {
  const seed = suiteSeed()
  onTestFailed(() => console.error(`failed with seed ${seed} (ATSPARK_TEST_SEED=${seed} replays it)`))
  return seededRandom(seed)
}

/** A version-4 UUID drawn from `rnd` (crypto.randomUUID would not replay). */
export function seededUuid(rnd: SeededRandom): string {
  let h = ''
  while (h.length < 32) h += Math.floor(rnd.next() * 0x1_0000_0000).toString(16).padStart(8, '0')
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}
