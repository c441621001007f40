/**
 * Which visits have events in the warehouse, as a filter that never forgets one it was told of (a Bloom
 * filter: a "no" is certain, a "maybe" costs only a warehouse lookup). It answers for events from
 * `coveredFrom` on: every stored event with a ts from then has its visit here (rebuilt from the warehouse
 * when the processor starts or partitions move, then told of every written batch). Generations of a day
 * each bound it: the oldest is dropped as a new one starts, and coverage moves to what the rest hold.
 */
export class WrittenVisits {
  private generations: { startedAt: number; bits: Uint32Array }[] = []
  private coveredFromMs = Number.POSITIVE_INFINITY

  constructor(
    private readonly bitsPerGeneration = 1 << 23,
    private readonly generationMs = 86_400_000,
    private readonly keep = 4,
    /** Event times come from ingest's clock, generation starts from ours: a stored ts may run this far ahead of our clock. */
    private readonly clockMarginMs = 600_000,
  ) {}

  /** Epoch ms from which every stored event's visit is in the filter; +Infinity (nothing) until covered. */
  get coveredFrom(): number {
    return this.coveredFromMs
  }

  /** Forgets everything; nothing is covered until `cover`. */
  reset(): void {
    this.generations = []
    this.coveredFromMs = Number.POSITIVE_INFINITY
  }

  /** After every visit stored with events from `fromMs` on was added (a rebuild). */
  cover(fromMs: number): void {
    this.coveredFromMs = fromMs
  }

  add(key: string, now: number): void {
    const bits = this.current(now)
    const [h1, h2] = hashes(key)
    for (let i = 0; i < HASHES; i++) {
      const bit = (h1 + i * h2) % this.bitsPerGeneration >>> 0
      bits[bit >>> 5] = (bits[bit >>> 5] as number) | (1 << (bit & 31))
    }
  }

  mightHave(key: string): boolean {
    const [h1, h2] = hashes(key)
    for (const g of this.generations) {
      let all = true
      for (let i = 0; i < HASHES && all; i++) {
        const bit = (h1 + i * h2) % this.bitsPerGeneration >>> 0
        all = ((g.bits[bit >>> 5] as number) & (1 << (bit & 31))) !== 0
      }
      if (all) return true
    }
    return false
  }

  /** True when no event of the visit with a ts from `fromMs` on can be stored: a lookup from there would find nothing. */
  surelyAbsent(key: string, fromMs: number): boolean {
    return fromMs >= this.coveredFromMs && !this.mightHave(key)
  }

  private current(now: number): Uint32Array {
    const last = this.generations.at(-1)
    if (last && now - last.startedAt < this.generationMs) return last.bits
    const bits = new Uint32Array(Math.ceil(this.bitsPerGeneration / 32))
    this.generations.push({ startedAt: now, bits })
    while (this.generations.length > this.keep) {
      this.generations.shift()
      // What was written before the oldest kept generation began is gone: events from then on (margin added) were written since.
      const oldest = this.generations[0] as { startedAt: number }
      this.coveredFromMs = Math.max(this.coveredFromMs, oldest.startedAt + this.clockMarginMs)
    }
    return bits
  }
}

const HASHES = 7

/** Two FNV-1a hashes of the key's UTF-16 units (different offsets), for double hashing. */
function hashes(key: string): [number, number] {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15)
  }
  // An odd step, so the positions differ for every i.
  return [a >>> 0, (b | 1) >>> 0]
}
