// The deterministic parts of the virtual fleet: seeded randomness, the manual clock, the CLI flags.
import { describe, expect, it } from 'vitest'
import { createManualClock, every } from '../../simulator/fleet/clock'
import { parseFaults, parseFleetArgs, UsageError } from '../../simulator/fleet/cli-options'
import { createRandom } from '../../simulator/fleet/random'

describe('seeded PRNG', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number) => {
      const random = createRandom(seed)
      return Array.from({ length: 50 }, () => random.next())
    }
    expect(draw(42)).toEqual(draw(42))
    expect(draw(43)).not.toEqual(draw(42))
    expect(draw(0)).not.toEqual(draw(1))
  })

  it('forks stable, independent streams by label', () => {
    const a = createRandom(7).fork('node:3')
    const parent = createRandom(7)
    parent.next()
    parent.next()
    // Drawing from the parent does not move a fork: each node's stream depends on its label only.
    const b = parent.fork('node:3')
    expect(Array.from({ length: 10 }, () => a.next())).toEqual(Array.from({ length: 10 }, () => b.next()))
    expect(createRandom(7).fork('node:4').next()).not.toBe(createRandom(7).fork('node:3').next())
  })

  it('stays in range and is roughly uniform and normal', () => {
    const random = createRandom(1)
    const values = Array.from({ length: 20_000 }, () => random.next())
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...values)).toBeLessThan(1)
    expect(values.reduce((sum, value) => sum + value, 0) / values.length).toBeCloseTo(0.5, 1)
    const ints = Array.from({ length: 5000 }, () => random.int(-3, 3))
    expect(new Set(ints)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]))
    const normals = Array.from({ length: 20_000 }, () => random.normal())
    const mean = normals.reduce((sum, value) => sum + value, 0) / normals.length
    const variance = normals.reduce((sum, value) => sum + (value - mean) ** 2, 0) / normals.length
    expect(mean).toBeCloseTo(0, 1)
    expect(variance).toBeCloseTo(1, 1)
    expect(random.chance(0)).toBe(false)
  })
})

describe('manual clock', () => {
  it('fires timers in due order and anchors repeating ticks to their schedule', () => {
    const clock = createManualClock(1000)
    const fired: string[] = []
    clock.schedule(300, () => fired.push(`b@${clock.now()}`))
    clock.schedule(100, () => fired.push(`a@${clock.now()}`))
    const cancel = clock.schedule(200, () => fired.push('cancelled'))
    cancel()
    const stop = every(clock, 250, 50, () => fired.push(`tick@${clock.now()}`))
    clock.advance(600)
    // Equal due times fire in the order they were scheduled.
    expect(fired).toEqual(['tick@1050', 'a@1100', 'b@1300', 'tick@1300', 'tick@1550'])
    expect(clock.now()).toBe(1600)
    stop()
    clock.advance(1000)
    expect(fired).toHaveLength(5)
    expect(clock.pending()).toBe(0)
  })
})

describe('simulate CLI flags', () => {
  it('parses the documented flags', () => {
    const options = parseFleetArgs(['--nodes', '200', '--devices', '5', '--rate', '1', '--broker', 'mqtt://127.0.0.1:1883', '--group', 'Plant1', '--seed', '42', '--faults', 'drop=0.01,gap=0.001,reorder=0.001,malformed=0.0005,skew=30000'])
    expect(options.fleet).toMatchObject({
      brokerUrl: 'mqtt://127.0.0.1:1883',
      nodes: 200,
      devicesPerNode: 5,
      rateHz: 1,
      groupId: 'Plant1',
      seed: 42,
      faults: { drop: 0.01, gap: 0.001, reorder: 0.001, malformed: 0.0005, skew: 30000 },
    })
    expect(parseFleetArgs(['--burst', '--max-in-flight', '8']).fleet.burst).toEqual({ maxInFlight: 8 })
  })

  it('refuses bad flags with a message that names them', () => {
    const refused = (argv: string[]) => {
      try {
        parseFleetArgs(argv)
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError)
        return (error as Error).message
      }
      throw new Error(`accepted ${argv.join(' ')}`)
    }
    expect(refused(['--nodes', '0'])).toMatch(/--nodes/)
    expect(refused(['--nodes', 'many'])).toMatch(/--nodes/)
    expect(refused(['--rate', '-1'])).toMatch(/--rate/)
    expect(refused(['--broker', 'not a url'])).toMatch(/--broker/)
    expect(refused(['--broker', 'http://x'])).toMatch(/scheme/)
    expect(refused(['--group', 'a/b'])).toMatch(/--group/)
    expect(refused(['--frobnicate'])).toMatch(/frobnicate/)
    expect(refused(['--max-in-flight', '4'])).toMatch(/--burst/)
    expect(() => parseFaults('drop=2')).toThrow(/probability/)
    expect(() => parseFaults('flood=0.1')).toThrow(/unknown fault/)
    expect(() => parseFaults('gap')).toThrow(/key=value/)
  })
})
