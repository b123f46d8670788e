import { describe, expect, it } from 'vitest'
import { createStore, type StateCreator } from 'zustand'
import type { FirmwareFile, FlashJobRow, PortRow, Recipe } from '../../../shared/contract'
import { BridgeError, type Bridge } from '../../../renderer/src/bridge'
import { fakeBridge } from './fake-bridge'
import { createBenchSlice, type BenchSlice } from '../../../renderer/src/features/bench/bench-slice'

function benchStore(bridge: Bridge) {
  return createStore<BenchSlice>()(createBenchSlice(bridge) as unknown as StateCreator<BenchSlice>)
}

const port = (path: string, patch: Partial<PortRow> = {}): PortRow => ({ path, name: 'CH340', usb: null, syncHint: '', probed: null, jobId: null, ...patch })
const sha = (digit: string) => digit.repeat(64)
const appFile: FirmwareFile = { sha256: sha('a'), fileName: 'app.bin', size: 3, importedAt: 1, summary: 'ESP32-S3 app hello 1.0 (IDF v5.2)', kind: 'app', chip: 'ESP32-S3' }
const recipe: Recipe = { name: 'hello', regions: [{ role: 'app', offset: 0x10000, sha256: sha('a'), fileName: 'app.bin' }], serialPattern: 'NODE-{seq:4}', baud: 921600, updatedAt: 1 }

describe('bench slice', () => {
  it('ports: a snapshot after reconnect replaces, ticked ports that went away leave the selection', () => {
    const store = benchStore(fakeBridge({}).bridge)
    const s = store.getState
    expect(s().benchPortsKnown).toBe(false)
    s().receivePorts({ set: { a: port('a'), b: port('b') }, deleted: [] })
    expect(s().benchPortsKnown).toBe(true)
    s().selectFreePorts()
    expect(s().benchSelected).toEqual(['a', 'b'])
    s().expectPortsSnapshot()
    s().receivePorts({ set: { b: port('b') }, deleted: [] })
    expect(Object.keys(s().benchPorts)).toEqual(['b'])
    expect(s().benchSelected).toEqual(['b'])
    // An empty snapshot still says "the core has no ports", not "not heard yet".
    s().expectPortsSnapshot()
    s().receivePorts({ set: {}, deleted: [] })
    expect(s().benchPorts).toEqual({})
    expect(s().benchSelected).toEqual([])
  })

  it('a host without the bench: errors are kept for the panels, nothing throws', async () => {
    const store = benchStore(fakeBridge({}).bridge)
    await store.getState().loadBench()
    expect(store.getState().benchFirmwareError).toMatch(/does not offer bench flashing/)
    expect(store.getState().benchRecipesError).toMatch(/does not offer bench flashing/)
  })

  it('imports files one by one as base64, and shows each refusal', async () => {
    const { bridge, calls } = fakeBridge({
      'bench.importFirmware': (params) => {
        const { fileName, data } = params as { fileName: string; data: string }
        if (fileName === 'bad.bin') throw new BridgeError({ code: 'INVALID_PARAMS', message: 'bad.bin is not an ESP32 image.' })
        expect(data).toBe(btoa('\x01\x02\x03'))
        return appFile
      },
      'bench.firmware': () => [appFile],
    })
    const store = benchStore(bridge)
    await store.getState().importFirmware([new File([new Uint8Array([1, 2, 3])], 'app.bin'), new File([new Uint8Array([9])], 'bad.bin'), new File([], 'empty.bin')])
    const imports = store.getState().benchImports
    expect(imports.map((i) => [i.fileName, i.state])).toEqual([
      ['app.bin', 'kept'],
      ['bad.bin', 'refused'],
      ['empty.bin', 'refused'],
    ])
    expect(imports[0]!.summary).toBe(appFile.summary)
    expect(imports[1]!.error).toBe('bad.bin is not an ESP32 image.')
    expect(imports[2]!.error).toMatch(/empty/)
    expect(calls.filter((c) => c.method === 'bench.importFirmware')).toHaveLength(2)
    expect(store.getState().benchFirmware).toEqual([appFile])
  })

  it('saves a recipe, shows the core refusal, and flashes the saved recipe with numbering that carries on', async () => {
    let refuse = true
    const { bridge, calls } = fakeBridge({
      'bench.saveRecipe': () => {
        if (refuse) throw new BridgeError({ code: 'INVALID_PARAMS', message: 'app.bin (0x10000–0x20000) overlaps data.bin at 0x18000.' })
        return recipe
      },
      'bench.flash': (params) => ({ batchId: 4, jobIds: (params as { ports: string[] }).ports.map((_, i) => i + 10) }),
    })
    const store = benchStore(bridge)
    const s = store.getState
    s().receivePorts({ set: { '/dev/ttyUSB1': port('/dev/ttyUSB1'), '/dev/ttyUSB0': port('/dev/ttyUSB0') }, deleted: [] })
    s().receiveBenchJobs({ set: {}, deleted: [] })
    store.setState({ benchFirmware: [appFile] })

    expect(await s().saveRecipe()).toBe(false)
    expect(s().benchRecipeError).toMatch(/name/)
    expect(calls).toHaveLength(0)

    s().editRecipe({ name: 'hello' })
    s().setRecipeRegionFile(s().benchDraft.regions[0]!.key, sha('a'))
    expect(await s().saveRecipe()).toBe(false)
    expect(s().benchRecipeError).toBe('app.bin (0x10000–0x20000) overlaps data.bin at 0x18000.')

    refuse = false
    expect(await s().saveRecipe()).toBe(true)
    expect(s().benchRecipe).toBe('hello')
    expect(s().benchRecipeError).toBeNull()

    s().includePort('/dev/ttyUSB1', true)
    s().includePort('/dev/ttyUSB0', true)
    s().setFirstSeq(7)
    await s().flash()
    expect(calls.at(-1)).toEqual({ method: 'bench.flash', params: { recipe: 'hello', ports: ['/dev/ttyUSB0', '/dev/ttyUSB1'], firstSeq: 7 } })
    expect(s().benchFirstSeq).toBe(9)
    expect(s().benchSelected).toEqual([])
    expect(s().benchFlashNote).toMatch(/Batch 4/)
  })

  it('flash refusals are shown as the core words them', async () => {
    const { bridge } = fakeBridge({ 'bench.flash': () => Promise.reject(new BridgeError({ code: 'CONFLICT', message: '/dev/ttyUSB0 is already being flashed.' })) })
    const store = benchStore(bridge)
    store.setState({ benchRecipes: [recipe], benchRecipe: 'hello', benchPorts: { '/dev/ttyUSB0': port('/dev/ttyUSB0') }, benchSelected: ['/dev/ttyUSB0'] })
    await store.getState().flash()
    expect(store.getState().benchFlashError).toBe('/dev/ttyUSB0 is already being flashed.')
    expect(store.getState().benchFlashing).toBe(false)
  })

  it('reloads the open job log when a job finishes', async () => {
    const log: FlashJobRow[] = []
    const { bridge, calls } = fakeBridge({ 'bench.jobs': () => log })
    const store = benchStore(bridge)
    const s = store.getState
    const row = { id: 1, batchId: 1, port: 'a', recipe: 'hello', serial: 'NODE-0001', state: 'writing', phase: '', written: 1, total: 2, bytesPerSecond: null, secondsLeft: null, chip: null, mac: null, error: null, regions: [], startedAt: 1, finishedAt: null, operator: 'ana' } satisfies FlashJobRow
    s().receiveBenchJobs({ set: { '1': row }, deleted: [] })
    s().setJobLogOpen(true)
    await s().loadJobLog()
    const before = calls.length
    s().receiveBenchJobs({ set: { '1': { ...row, written: 2 } }, deleted: [] })
    expect(calls.length).toBe(before)
    s().receiveBenchJobs({ set: { '1': { ...row, state: 'done', written: 2 } }, deleted: [] })
    await s().loadJobLog()
    expect(calls.filter((c) => c.method === 'bench.jobs').length).toBeGreaterThan(1)
  })
})
