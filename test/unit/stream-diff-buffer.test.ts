import { describe, expect, it } from 'vitest'
import { applyDiff, DiffBuffer, type Diff } from '../../shared/domain'

describe('DiffBuffer', () => {
  it('coalesces 10,000 sets of a few keys into one diff with the latest value of each key', () => {
    const buffer = new DiffBuffer<{ seq: number }>()
    const keys = ['pump', 'valve', 'fan', 'heater']
    for (let i = 0; i < 10_000; i++) buffer.set(keys[i % keys.length]!, { seq: i })
    expect(buffer.pending).toBe(true)
    const diff = buffer.take()
    expect(diff).toEqual({ set: { pump: { seq: 9996 }, valve: { seq: 9997 }, fan: { seq: 9998 }, heater: { seq: 9999 } }, deleted: [] })
    expect(Object.keys(diff!.set)).toHaveLength(4)
    expect(buffer.pending).toBe(false)
  })

  it('reports a key deleted after being set only as deleted', () => {
    const buffer = new DiffBuffer<number>()
    buffer.set('a', 1)
    buffer.set('keep', 2)
    buffer.delete('a')
    expect(buffer.take()).toEqual({ set: { keep: 2 }, deleted: ['a'] })
  })

  it('reports a key set after being deleted only as set, with the new value', () => {
    const buffer = new DiffBuffer<number>()
    buffer.delete('a')
    buffer.set('a', 7)
    expect(buffer.take()).toEqual({ set: { a: 7 }, deleted: [] })
  })

  it('returns null from take() when nothing changed, including right after a take', () => {
    const buffer = new DiffBuffer<number>()
    expect(buffer.take()).toBeNull()
    buffer.set('x', 1)
    expect(buffer.take()).not.toBeNull()
    expect(buffer.take()).toBeNull()
  })

  it('starts each diff afresh after a take', () => {
    const buffer = new DiffBuffer<number>()
    buffer.set('x', 1)
    buffer.delete('y')
    buffer.take()
    buffer.set('z', 3)
    expect(buffer.take()).toEqual({ set: { z: 3 }, deleted: [] })
  })
})

describe('applyDiff', () => {
  it('does not mutate the current view model and keeps the identity of unchanged values', () => {
    const pump = { state: 'up' }
    const valve = { state: 'down' }
    const fan = { state: 'off' }
    const current = Object.freeze({ pump, valve, fan })
    const snapshot = JSON.stringify(current)
    const diff: Diff<{ state: string }> = { set: { valve: { state: 'up' } }, deleted: ['fan'] }
    const next = applyDiff(current, diff)
    expect(next).not.toBe(current)
    expect(JSON.stringify(current)).toBe(snapshot)
    expect(current.fan).toBe(fan)
    expect(next.pump).toBe(pump)
    expect(next.valve).toEqual({ state: 'up' })
    expect(next.valve).not.toBe(valve)
    expect('fan' in next).toBe(false)
  })

  it('adds keys that were not there before', () => {
    expect(applyDiff<number>({ a: 1 }, { set: { b: 2 }, deleted: [] })).toEqual({ a: 1, b: 2 })
  })
})
