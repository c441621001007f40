/** Runs `tick` now and then every `ms` until stopped; a tick never overlaps the previous one. */
export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined
  private abort: AbortController | undefined
  private generation = 0

  constructor(
    private readonly ms: number,
    private readonly tick: (signal: AbortSignal) => Promise<void>,
  ) {}

  start(): void {
    this.stop()
    const generation = ++this.generation
    const run = async () => {
      const abort = new AbortController()
      this.abort = abort
      try {
        await this.tick(abort.signal)
      } catch {
        // A failed tick shows in its card (the tick renders it); the next one tries again.
      }
      if (generation === this.generation) this.timer = setTimeout(run, this.ms)
    }
    void run()
  }

  stop(): void {
    this.generation++
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.abort?.abort()
    this.abort = undefined
  }
}
