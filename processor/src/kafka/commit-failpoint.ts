import { writeSync } from 'node:fs'
import { z } from 'zod'

/** The two sides of a batch's insert, where a test can have the processor killed. */
export const KillPoint = { beforeInsert: 'before-insert', afterInsert: 'after-insert' } as const
export type KillPoint = (typeof KillPoint)[keyof typeof KillPoint]

/** Kill at `point` of the `batch`th batch this process writes (1-based, counted over all its partitions). */
export interface KillAt {
  point: KillPoint
  batch: number
}

/** `ATSPARK_FAILPOINT_KILL`: `<before-insert|after-insert>:<n>`, e.g. `after-insert:2`. */
export const KillAtSetting = z
  .string()
  .regex(/^(before-insert|after-insert):[1-9]\d{0,5}$/, 'expected <before-insert|after-insert>:<batch number ≥ 1>')
  .transform((text): KillAt => {
    const [point, batch] = text.split(':') as [KillPoint, string]
    return { point, batch: Number(batch) }
  })

/**
 * A test-only kill -9 at one exact moment of the exactly-once write (docs/kafka.md): after the
 * batch's range is recorded and before its insert, or after the insert returned and before
 * the offset commit, the moment a missing dedup layer turns into duplicates. Compiled in, inert
 * unless the process was started with ATSPARK_FAILPOINTS=1 and ATSPARK_FAILPOINT_KILL.
 */
export class CommitFailpoint {
  private reachedCount = 0

  constructor(
    private readonly at: KillAt | undefined,
    // A real SIGKILL: no exit handler, no flush, no commit, exactly as an OOM kill or a pulled plug.
    private readonly die: () => void = () => process.kill(process.pid, 'SIGKILL'),
  ) {}

  /** Called at each point of each batch; kills the process at the armed one. */
  reached(point: KillPoint, token: string): void {
    if (this.at?.point !== point) return
    this.reachedCount++
    if (this.reachedCount !== this.at.batch) return
    // Synchronous, so the line is in the pipe before the kill: the test reads which batch died.
    writeSync(2, `failpoint: kill -9 ${point} of batch ${this.reachedCount} (${token})\n`)
    this.die()
  }
}
