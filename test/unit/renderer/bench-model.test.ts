import { describe, expect, it } from 'vitest'
import type { FirmwareFile, FlashJobRow, PortRow, Recipe } from '../../../shared/contract'
import { base64Length, bytesToBase64 } from '../../../renderer/src/features/bench/base64'
import {
  batchesOf,
  canResume,
  flashBlocker,
  formatBytes,
  formatSecondsLeft,
  formatSpeed,
  formatTransfer,
  freePortPaths,
  isPortBusy,
  newlyFinished,
  portsToFlash,
  progressOf,
  pruneSelection,
  sortedJobs,
  sortedPorts,
  toggleInSelection,
  type JobRows,
  type PortRows,
} from '../../../renderer/src/features/bench/bench-model'
import { mergeKeyed } from '../../../renderer/src/state/merge-keyed'
import {
  addRegion,
  defaultOffset,
  draftFromRecipe,
  draftMatches,
  draftToParams,
  identitiesFor,
  newDraft,
  offsetWarning,
  parseOffset,
  removeRegion,
  serialPreview,
  setRegionFile,
  setRegionOffset,
  setRegionRole,
} from '../../../renderer/src/features/bench/recipe-draft'

function port(path: string, patch: Partial<PortRow> = {}): PortRow {
  return { path, name: 'CP2102', usb: { vendorId: '10c4', productId: 'ea60', serialNumber: null, manufacturer: 'Silicon Labs' }, syncHint: '', probed: null, jobId: null, ...patch }
}

function job(id: number, patch: Partial<FlashJobRow> = {}): FlashJobRow {
  return {
    id,
    batchId: 1,
    port: `/dev/ttyUSB${id}`,
    recipe: 'r',
    serial: `NODE-${id}`,
    state: 'writing',
    phase: '',
    written: 0,
    total: 0,
    bytesPerSecond: null,
    secondsLeft: null,
    chip: null,
    mac: null,
    error: null,
    regions: [],
    startedAt: null,
    finishedAt: null,
    operator: 'ana',
    ...patch,
  }
}

const byKey = <T extends { path: string } | { id: number }>(...rows: T[]) => Object.fromEntries(rows.map((row) => ['path' in row ? row.path : String(row.id), row]))

const sha = (digit: string) => digit.repeat(64)
const files: FirmwareFile[] = [
  { sha256: sha('a'), fileName: 'hello.bin', size: 200_000, importedAt: 1, summary: 'ESP32 app hello_world 1.0.0 (IDF v5.2)', kind: 'app', chip: 'ESP32' },
  { sha256: sha('b'), fileName: 'bootloader.bin', size: 26_000, importedAt: 1, summary: 'ESP32 bootloader, 3 segments', kind: 'bootloader', chip: 'ESP32' },
  { sha256: sha('c'), fileName: 'partition-table.bin', size: 3072, importedAt: 1, summary: 'partition table, 3 partitions (nvs, phy_init, factory)', kind: 'partition-table', chip: null },
  { sha256: sha('d'), fileName: 's3.bin', size: 200_000, importedAt: 1, summary: 'ESP32-S3 app blink 2.0 (IDF v5.3)', kind: 'app', chip: 'ESP32-S3' },
]

describe('streams', () => {
  it('applies diffs, keeps unchanged rows and returns the same record when nothing changed', () => {
    const a = port('/dev/ttyUSB0')
    const current: PortRows = byKey(a)
    expect(mergeKeyed(current, { set: { [a.path]: { ...a } }, deleted: [] })).toBe(current)
    const next = mergeKeyed(current, { set: { '/dev/ttyUSB1': port('/dev/ttyUSB1') }, deleted: [] })
    expect(Object.keys(next)).toEqual(['/dev/ttyUSB0', '/dev/ttyUSB1'])
    expect(next['/dev/ttyUSB0']).toBe(a)
    expect(Object.keys(mergeKeyed(next, { set: {}, deleted: ['/dev/ttyUSB0'] }))).toEqual(['/dev/ttyUSB1'])
  })

  it('a snapshot drops rows the core no longer has', () => {
    const current: PortRows = byKey(port('/dev/ttyUSB0'), port('/dev/ttyUSB1'))
    const next = mergeKeyed(current, { set: { '/dev/ttyUSB1': port('/dev/ttyUSB1') }, deleted: [] }, true)
    expect(Object.keys(next)).toEqual(['/dev/ttyUSB1'])
    expect(next['/dev/ttyUSB1']).toBe(current['/dev/ttyUSB1'])
  })

  it('sees nested changes (probed board, regions)', () => {
    const a = port('/dev/ttyUSB0')
    const current: PortRows = byKey(a)
    const probed = mergeKeyed(current, { set: { [a.path]: { ...a, probed: { chip: 'ESP32', mac: 'aa:bb', flashSize: 4194304 } } }, deleted: [] })
    expect(probed).not.toBe(current)
  })
})

describe('ports', () => {
  const jobs: JobRows = byKey(job(7, { state: 'writing' }), job(8, { state: 'done' }))
  const ports: PortRows = byKey(port('/dev/ttyUSB10'), port('/dev/ttyUSB2', { jobId: 7 }), port('/dev/ttyUSB1', { jobId: 8 }), port('COM3'))

  it('sorts paths naturally', () => {
    expect(sortedPorts(ports).map((p) => p.path)).toEqual(['/dev/ttyUSB1', '/dev/ttyUSB2', '/dev/ttyUSB10', 'COM3'])
  })

  it('a port is busy while its job runs, or while the core names a job we have not seen', () => {
    expect(isPortBusy(ports['/dev/ttyUSB2']!, jobs)).toBe(true)
    expect(isPortBusy(ports['/dev/ttyUSB1']!, jobs)).toBe(false)
    expect(isPortBusy(port('x', { jobId: 99 }), jobs)).toBe(true)
    expect(freePortPaths(ports, jobs)).toEqual(['/dev/ttyUSB1', '/dev/ttyUSB10', 'COM3'])
  })

  it('selection: toggled in path order, pruned when unplugged, flashed only where free', () => {
    let selected = toggleInSelection([], '/dev/ttyUSB10', true)
    selected = toggleInSelection(selected, '/dev/ttyUSB2', true)
    selected = toggleInSelection(selected, '/dev/ttyUSB1', true)
    expect(selected).toEqual(['/dev/ttyUSB1', '/dev/ttyUSB2', '/dev/ttyUSB10'])
    expect(toggleInSelection(selected, '/dev/ttyUSB1', true)).toBe(selected)
    expect(portsToFlash(selected, ports, jobs)).toEqual(['/dev/ttyUSB1', '/dev/ttyUSB10'])
    expect(pruneSelection(selected, ports)).toBe(selected)
    const { ['/dev/ttyUSB10']: _gone, ...rest } = ports
    expect(pruneSelection(selected, rest)).toEqual(['/dev/ttyUSB1', '/dev/ttyUSB2'])
  })

  it('says why Flash cannot be pressed, in the order to fix it', () => {
    const ready = { connected: true, recipe: 'r', recipeSaved: true, unsavedChanges: false, ports: 2, starting: false }
    expect(flashBlocker(ready)).toBeNull()
    expect(flashBlocker({ ...ready, recipe: null, ports: 0 })).toMatch(/recipe/)
    expect(flashBlocker({ ...ready, unsavedChanges: true })).toMatch(/Save the changes/)
    expect(flashBlocker({ ...ready, ports: 0 })).toMatch(/Tick the ports/)
    expect(flashBlocker({ ...ready, connected: false })).toMatch(/not connected/)
  })
})

describe('jobs', () => {
  it('newest batch first, in serial-number order within a batch; batches know when they can resume', () => {
    const jobs: JobRows = byKey(
      job(1, { batchId: 1, port: '/dev/ttyUSB1', state: 'done' }),
      job(2, { batchId: 2, port: '/dev/ttyUSB10', state: 'failed' }),
      job(3, { batchId: 2, port: '/dev/ttyUSB2', state: 'writing' }),
    )
    const sorted = sortedJobs(jobs)
    expect(sorted.map((j) => j.id)).toEqual([2, 3, 1])
    const batches = batchesOf(sorted)
    expect(batches.map((b) => [b.batchId, b.counts])).toEqual([
      [2, { active: 1, done: 0, failed: 1, cancelled: 0 }],
      [1, { active: 0, done: 1, failed: 0, cancelled: 0 }],
    ])
    expect(canResume(batches[0]!)).toBe(false)
    expect(canResume(batchesOf([job(4, { state: 'cancelled' })])[0]!)).toBe(true)
    expect(canResume(batches[1]!)).toBe(false)
  })

  it('knows which jobs just finished', () => {
    const before: JobRows = byKey(job(1, { state: 'writing' }), job(2, { state: 'done' }))
    const after: JobRows = byKey(job(1, { state: 'failed' }), job(2, { state: 'done' }), job(3, { state: 'queued' }))
    expect(newlyFinished(before, after)).toEqual([1])
  })

  it('progress and numbers', () => {
    expect(progressOf({ state: 'queued', written: 0, total: 0 })).toEqual({ value: 0, max: 1 })
    expect(progressOf({ state: 'writing', written: 500, total: 1000 })).toEqual({ value: 500, max: 1000 })
    // Rows read back from the log carry no total.
    expect(progressOf({ state: 'done', written: 2048, total: 0 })).toEqual({ value: 2048, max: 2048 })
    expect(formatTransfer({ state: 'writing', written: 412 * 1024, total: 1.2 * 1024 * 1024 })).toBe('412 KB of 1.2 MB')
    expect(formatBytes(812)).toBe('812 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatSpeed(null)).toBe('—')
    expect(formatSpeed(90 * 1024)).toBe('90 KB/s')
    expect(formatSecondsLeft(12)).toBe('12 s left')
    expect(formatSecondsLeft(65)).toBe('1 min 05 s left')
  })
})

describe('recipe draft', () => {
  it('reads offsets in hex or decimal, and says what is wrong', () => {
    expect(parseOffset('0x10000')).toEqual({ ok: true, value: 0x10000 })
    expect(parseOffset(' 65536 ')).toEqual({ ok: true, value: 65536 })
    expect(parseOffset('0X8000')).toEqual({ ok: true, value: 0x8000 })
    expect(parseOffset('10000h').ok).toBe(false)
    expect(parseOffset('').ok).toBe(false)
    expect(parseOffset('0x20000000').ok).toBe(false)
    expect(offsetWarning('0x10100')).toMatch(/4 KB/)
    expect(offsetWarning('0x10000')).toBeNull()
  })

  it('default offsets: the bootloader follows the chip', () => {
    expect(defaultOffset('partition-table', null)).toBe(0x8000)
    expect(defaultOffset('otadata', null)).toBe(0xd000)
    expect(defaultOffset('app', null)).toBe(0x10000)
    expect(defaultOffset('nvs', null)).toBe(0x9000)
    expect(defaultOffset('data', null)).toBeNull()
    expect(defaultOffset('bootloader', null)).toBe(0x0)
    expect(defaultOffset('bootloader', 'ESP32')).toBe(0x1000)
    expect(defaultOffset('bootloader', 'ESP32-S2')).toBe(0x1000)
    expect(defaultOffset('bootloader', 'ESP32-S3')).toBe(0x0)
  })

  it('builds the usual ESP32 layout: rows follow chosen files until the engineer says otherwise', () => {
    let draft = newDraft()
    expect(draft.regions.map((r) => [r.role, r.offsetText])).toEqual([['app', '0x10000']])
    draft = addRegion(draft, files)
    draft = addRegion(draft, files)
    expect(draft.regions.map((r) => [r.role, r.offsetText])).toEqual([
      ['app', '0x10000'],
      ['bootloader', '0x0'],
      ['partition-table', '0x8000'],
    ])
    // An ESP32 app moves the untouched bootloader row to 0x1000.
    const [app, boot, table] = draft.regions.map((r) => r.key) as [number, number, number]
    draft = setRegionFile(draft, app, sha('a'), files)
    expect(draft.regions[1]!.offsetText).toBe('0x1000')
    // A partition table chosen in the bootloader row turns the row into a partition table, unless the role was picked.
    const guessed = setRegionFile(draft, boot, sha('c'), files)
    expect(guessed.regions[1]!.role).toBe('partition-table')
    expect(guessed.regions[1]!.offsetText).toBe('0x8000')
    draft = setRegionRole(draft, boot, 'bootloader', files)
    draft = setRegionFile(draft, boot, sha('b'), files)
    expect(draft.regions[1]!.role).toBe('bootloader')
    // A typed offset stays.
    draft = setRegionOffset(draft, table, '32768')
    draft = setRegionRole(draft, table, 'partition-table', files)
    expect(draft.regions[2]!.offsetText).toBe('32768')
    draft = setRegionFile(draft, table, sha('c'), files)
    draft = { ...draft, name: ' hello ' }
    const checked = draftToParams(draft)
    expect(checked).toEqual({
      ok: true,
      params: {
        name: 'hello',
        regions: [
          { role: 'app', offset: 0x10000, sha256: sha('a') },
          { role: 'bootloader', offset: 0x1000, sha256: sha('b') },
          { role: 'partition-table', offset: 0x8000, sha256: sha('c') },
        ],
        serialPattern: 'NODE-{seq:4}',
        baud: 921600,
      },
    })
    expect(removeRegion(draft, boot).regions).toHaveLength(2)
  })

  it('names what to fix before anything is sent', () => {
    const draft = { ...newDraft(), serialPattern: 'NODE' }
    const checked = draftToParams(draft)
    expect(checked.ok).toBe(false)
    if (!checked.ok) {
      expect(checked.problems[0]).toMatch(/name/)
      expect(checked.problems.some((p) => /File 1 \(application\): choose/.test(p))).toBe(true)
      expect(checked.problems.some((p) => /no \{seq\}/.test(p))).toBe(true)
    }
  })

  it('compares with the saved recipe', () => {
    const recipe: Recipe = { name: 'r', regions: [{ role: 'app', offset: 0x10000, sha256: sha('a'), fileName: 'hello.bin' }], serialPattern: 'N-{seq}', baud: 460800, updatedAt: 1 }
    const draft = draftFromRecipe(recipe)
    expect(draftMatches(draft, recipe)).toBe(true)
    expect(draftMatches(setRegionOffset(draft, 1, '65536'), recipe)).toBe(true)
    expect(draftMatches(setRegionOffset(draft, 1, '0x20000'), recipe)).toBe(false)
    expect(draftMatches({ ...draft, baud: 921600 }, recipe)).toBe(false)
    expect(draftMatches(draft, undefined)).toBe(false)
  })

  it('previews identities as the core makes them', () => {
    expect(serialPreview('NODE-{seq:4}', 1)).toEqual({ ok: true, serials: ['NODE-0001', 'NODE-0002'] })
    expect(serialPreview('PLANT', 1).ok).toBe(false)
    expect(identitiesFor(['a', 'b'], 'X{seq}', 9)).toEqual([
      { port: 'a', serial: 'X9' },
      { port: 'b', serial: 'X10' },
    ])
  })
})

describe('base64', () => {
  it('matches btoa on small inputs, across chunk boundaries', () => {
    for (const size of [0, 1, 2, 3, 4, 24575, 24576, 24577, 49153]) {
      const bytes = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff)
      let binary = ''
      for (const byte of bytes) binary += String.fromCharCode(byte)
      const encoded = bytesToBase64(bytes)
      expect(encoded).toBe(btoa(binary))
      expect(encoded.length).toBe(base64Length(size))
    }
  })

  it('encodes a 4 MB image without running out of stack', () => {
    const bytes = new Uint8Array(4 * 1024 * 1024).map((_, i) => i & 0xff)
    const encoded = bytesToBase64(bytes)
    expect(encoded.length).toBe(base64Length(bytes.length))
    const back = atob(encoded.slice(0, 8))
    expect([...back].map((c) => c.charCodeAt(0))).toEqual([0, 1, 2, 3, 4, 5])
  })
})
