import { describe, expect, it } from 'vitest'
import { CommitFailpoint, KillAtSetting } from './commit-failpoint.js'

describe('KillAtSetting', () => {
  it('reads <point>:<batch>', () => {
    expect(KillAtSetting.parse('after-insert:2')).toEqual({ point: 'after-insert', batch: 2 })
    expect(KillAtSetting.parse('before-insert:1')).toEqual({ point: 'before-insert', batch: 1 })
  })

  it('refuses anything else', () => {
    for (const bad of ['', 'after-insert', 'after-insert:0', 'after-insert:-1', 'after-commit:1', 'after-insert:1x']) {
      expect(KillAtSetting.safeParse(bad).success, bad).toBe(false)
    }
  })
})

describe('CommitFailpoint', () => {
  it('is inert when not armed', () => {
    let kills = 0
    const fp = new CommitFailpoint(undefined, () => kills++)
    for (let i = 0; i < 5; i++) {
      fp.reached('before-insert', 't')
      fp.reached('after-insert', 't')
    }
    expect(kills).toBe(0)
  })

  it('kills at the armed point of the nth batch only', () => {
    const killed: number[] = []
    let batch = 0
    const fp = new CommitFailpoint({ point: 'after-insert', batch: 3 }, () => killed.push(batch))
    for (batch = 1; batch <= 5; batch++) {
      fp.reached('before-insert', `t${batch}`)
      fp.reached('after-insert', `t${batch}`)
    }
    expect(killed).toEqual([3])
  })
})
