/** What a warehouse write does when a test has switched the failpoint on. */
export const FailpointMode = { off: 'off', fail: 'fail', stall: 'stall' } as const
export type FailpointMode = (typeof FailpointMode)[keyof typeof FailpointMode]

/**
 * A test-only switch in front of warehouse writes: compiled in, inert unless the process was
 * started with ATSPARK_FAILPOINTS=1, and then driven through the processor's operator port.
 */
export class WarehouseFailpoint {
  private current: FailpointMode = FailpointMode.off
  private released: (() => void) | undefined

  constructor(readonly enabled: boolean) {}

  get mode(): FailpointMode {
    return this.current
  }

  set(mode: FailpointMode): void {
    if (!this.enabled) throw new Error('failpoints are disabled (start with ATSPARK_FAILPOINTS=1)')
    this.current = mode
    if (mode !== FailpointMode.stall) {
      this.released?.()
      this.released = undefined
    }
  }

  /** Awaited before every warehouse write: throws while failing, waits while stalled. */
  async beforeWrite(): Promise<void> {
    if (!this.enabled || this.current === FailpointMode.off) return
    if (this.current === FailpointMode.fail) throw new Error('failpoint: warehouse write failed')
    await new Promise<void>((resolve) => {
      const prev = this.released
      this.released = () => {
        prev?.()
        resolve()
      }
    })
  }
}
