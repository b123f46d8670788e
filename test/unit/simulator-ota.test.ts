// The virtual node's flash, bootloader and OTA job without MQTT or HTTP: a device driven by hand on a
// manual clock, its image bytes served from memory. Every byte that boots is checked by the console's own
// readers (app-image, otadata, partition-table), so these tests hold the simulator to what an ESP32 with
// ESP-IDF's app rollback would do.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAppImage } from '../../shared/domain/firmware/app-image'
import { decodeOtadata, otadataSize, type Otadata } from '../../shared/domain/firmware/otadata'
import { decodePartitionTable, defaultPartitionTableOffset, espIdfPartitionTables, parsePartitionCsv, partitionTableMaxLength } from '../../shared/domain/firmware/partition-table'
import { encodeOtaCommand, otaReportMetrics, parseOtaError, type OtaCommand, type OtaReport } from '../../shared/domain/ota/protocol'
import { Rollout } from '../../shared/domain/ota/rollout'
import { planRollout } from '../../shared/domain/ota/rollout-plan'
import { parseFleetArgs, UsageError } from '../../simulator/fleet/cli-options'
import { createManualClock, type ManualClock } from '../../simulator/fleet/clock'
import type { RebootReason } from '../../simulator/fleet/metrics'
import { createRandom } from '../../simulator/fleet/random'
import { buildAppImage, sha256, sha256Hex, withAppVersion } from '../../simulator/ota/app-image'
import { runBootloader, twoOtaPartitionTable } from '../../simulator/ota/bootloader'
import { flashSectorSize, PowerLossError, SpiFlash } from '../../simulator/ota/flash'
import type { FetchSink, ImageFetcher } from '../../simulator/ota/http-fetch'
import { OtaDevice, otaSteps, type OtaOptions } from '../../simulator/ota/ota-device'

const fixtures = path.resolve(import.meta.dirname, '../../../shared/fixtures/esptool/images')
const blink = () => new Uint8Array(readFileSync(path.join(fixtures, 'esp_idf_blink_esp32s2.bin')))

const two = twoOtaPartitionTable
const slot = (name: string) => two.partitions.find((p) => p.name === name)!
const otadataPartition = two.partitions.find((p) => p.name === 'otadata')!

/** Image bytes served from memory in chunks on the manual clock; records every request. */
class MemoryServer {
  readonly files = new Map<string, Uint8Array>()
  readonly requests: { url: string; from: number }[] = []
  /** Bytes after which the next response stops sending (the server hangs), once. */
  stallAfter: number | null = null

  constructor(
    private readonly clock: ManualClock,
    private readonly chunk = 4096,
    private readonly intervalMs = 10,
  ) {}

  publish(name: string, bytes: Uint8Array): { url: string; sha256: string; size: number } {
    const url = `http://images.test/${name}`
    this.files.set(url, bytes)
    return { url, sha256: sha256Hex(bytes), size: bytes.length }
  }

  readonly fetch: ImageFetcher = (request, sink: FetchSink) => {
    this.requests.push(request)
    const file = this.files.get(request.url)
    let stopped = false
    let position = request.from
    let sent = 0
    const stallAfter = this.stallAfter
    this.stallAfter = null
    let cancel = this.clock.schedule(1, () => {
      if (!file) return sink.fail('HTTP 404')
      // As the console's server answers a Range that starts at or past the end (RFC 9110 §14.1.1).
      if (request.from >= file.length) return sink.fail('HTTP 416')
      sink.start({ offset: request.from, total: file.length })
      pump()
    })
    const pump = () => {
      if (stopped || !file) return
      if (position >= file.length) return sink.end()
      if (stallAfter !== null && sent >= stallAfter) return
      const piece = file.subarray(position, position + this.chunk)
      position += piece.length
      sent += piece.length
      sink.data(piece)
      if (!stopped) cancel = this.clock.schedule(this.intervalMs, pump)
    }
    const stop = () => {
      stopped = true
      cancel()
    }
    return { abort: stop, pause: stop }
  }
}

interface Rig {
  clock: ManualClock
  device: OtaDevice
  server: MemoryServer
  reports: OtaReport[]
  resets: RebootReason[]
  send(command: OtaCommand): void
  otadata(): Otadata
  /** The OTA report an NBIRTH would carry now. */
  birth(): OtaReport
}

/** One virtual ESP32: resets take 100 ms, and a node that boots is online at once (its births are out). */
function rig(options: Partial<OtaOptions> & { seed?: number; firmwareVersion?: string } = {}): Rig {
  const clock = createManualClock()
  const server = new MemoryServer(clock)
  const reports: OtaReport[] = []
  const resets: RebootReason[] = []
  const { seed, firmwareVersion, ...ota } = options
  const boot = (reason: RebootReason) => {
    if (device.boot(reason) === 'run') device.online()
  }
  const device: OtaDevice = new OtaDevice({
    clock,
    random: createRandom(seed ?? 1),
    firmwareVersion: firmwareVersion ?? '1.0.0',
    fetch: server.fetch,
    ...ota,
    host: {
      report: (report) => reports.push(report),
      reset: (reason, offMs) => {
        resets.push(reason)
        device.reset()
        clock.schedule(offMs ?? 100, () => boot(reason))
      },
      dropLink: () => device.linkLost(),
    },
  })
  boot('ESP_RST_POWERON')
  return {
    clock,
    device,
    server,
    reports,
    resets,
    send(command) {
      const result = device.command(encodeOtaCommand(command))
      if (!result.ok) throw new Error(result.detail)
    },
    otadata() {
      const decoded = decodeOtadata(device.flash.read(otadataPartition.offset, otadataSize), { otaSlotCount: 2 })
      if (!decoded.ok) throw new Error(decoded.error)
      return decoded.value
    },
    birth: () => device.birthReport(),
  }
}

const download = (job: string, image: { url: string; sha256: string; size: number }, version: string): OtaCommand => ({ op: 'download', job, ...image, version })

describe('flash as the bench leaves it', () => {
  it('holds ESP-IDF’s two_ota table at 0x8000, the app in factory and ota_0, and otadata selecting ota_0 as VALID', () => {
    const { device, otadata } = rig()
    const table = decodePartitionTable(device.flash.read(defaultPartitionTableOffset, partitionTableMaxLength))
    const expected = parsePartitionCsv(espIdfPartitionTables.two_ota)
    expect(table.ok && expected.ok && table.value.partitions.map((p) => [p.name, p.offset, p.size])).toEqual(
      expected.ok && expected.value.partitions.map((p) => [p.name, p.offset, p.size]),
    )
    for (const name of ['factory', 'ota_0']) {
      const parsed = parseAppImage(device.flash.read(slot(name).offset, slot(name).size), { sha256 })
      expect(parsed.ok && parsed.image.appDescription?.version, name).toBe('1.0.0')
    }
    expect(device.flash.read(slot('ota_1').offset, 64).every((byte) => byte === 0xff)).toBe(true)
    expect(otadata()).toMatchObject({ bootSlot: 0, bootState: 'VALID' })
    expect(device.running).toMatchObject({ slot: 'ota_0', version: '1.0.0', otaState: 'VALID' })
    expect(device.birthReport()).toEqual({ state: 'idle', job: '', progress: 0, error: null, firmwareVersion: '1.0.0', runningSlot: 'ota_0' })
  })

  it('a node fresh off the bench runs its factory app on erased otadata, and its first update goes to ota_0', () => {
    const { device, otadata, server, send, clock } = rig({ initialSlot: 'factory' })
    expect(otadata()).toMatchObject({ bootSlot: null, activeEntry: null })
    expect(device.running).toMatchObject({ slot: 'factory', otaState: null })
    send(download('r/1', server.publish('a.bin', buildAppImage({ version: '1.1.0' })), '1.1.0'))
    clock.advance(5000)
    expect(device.record).toMatchObject({ state: 'downloaded', target: { slot: 'ota_0' } })
  })

  it('flash behaves as NOR: erase sets 0xFF, programming only clears bits, a cut leaves the operation half done', () => {
    const flash = new SpiFlash()
    flash.program(0x1000, Uint8Array.of(0xf0, 0xff))
    flash.program(0x1000, Uint8Array.of(0x3c, 0x0f))
    expect([...flash.read(0x1000, 3)]).toEqual([0x30, 0x0f, 0xff])
    flash.erase(0x1000, flashSectorSize)
    expect([...flash.read(0x1000, 2)]).toEqual([0xff, 0xff])
    expect(() => flash.erase(0x1001, flashSectorSize)).toThrow(RangeError)
    flash.armPowerCut({ afterOps: 1, fraction: 0.5 })
    flash.program(0x2000, new Uint8Array(8))
    expect(() => flash.program(0x3000, new Uint8Array(8))).toThrow(PowerLossError)
    expect([...flash.read(0x3000, 8)]).toEqual([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])
    expect(flash.powerCutArmed).toBe(false)
  })
})

describe('images', () => {
  it('builds app images the console’s reader accepts, with the version in esp_app_desc_t', () => {
    const image = buildAppImage({ version: '2.0.0-rc1', payloadBytes: 1000 })
    const parsed = parseAppImage(image, { sha256 })
    expect(parsed.ok && parsed.image).toMatchObject({ kind: 'application', chip: 'ESP32', hashAppended: true, imageLength: image.length, appDescription: { version: '2.0.0-rc1' } })
    expect(buildAppImage({ version: '2.0.0-rc1', payloadBytes: 1000 })).toEqual(image)
  })

  it('re-stamps a real ESP-IDF build (esp_idf_blink_esp32s2.bin) with another version, checksum and SHA-256 made right', () => {
    const original = blink()
    const patched = withAppVersion(original, '9.9.9-patched')
    const parsed = parseAppImage(patched, { sha256 })
    expect(parsed.ok && parsed.image).toMatchObject({ chip: 'ESP32-S2', appDescription: { version: '9.9.9-patched', projectName: 'blink' } })
    expect(sha256Hex(patched)).not.toBe(sha256Hex(original))
    // Changing only the version without fixing the footer is what the bootloader would refuse.
    const careless = original.slice()
    careless.set(new TextEncoder().encode('9.9.9'), 32 + 16)
    expect(parseAppImage(careless, { sha256 }).ok).toBe(false)
  })
})

describe('install → reboot → verify → VALID', () => {
  it('downloads into the passive slot, waits for install, then boots the new image and confirms it', () => {
    const { device, server, reports, resets, send, clock, otadata, birth } = rig()
    const image = buildAppImage({ version: '1.1.0', payloadBytes: 200_000 })
    send(download('r/1', server.publish('v110.bin', image), '1.1.0'))
    clock.advance(10_000)
    expect(device.record).toMatchObject({ state: 'downloaded', job: 'r/1', progress: 100, target: { slot: 'ota_1', version: '1.1.0' }, from: { slot: 'ota_0', version: '1.0.0' } })
    const progress = reports.filter((r) => r.state === undefined).map((r) => r.progress!)
    expect(progress.length).toBeGreaterThanOrEqual(5)
    expect(progress.length).toBeLessThanOrEqual(12)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
    expect(reports.at(-1)).toEqual({ state: 'downloaded', job: 'r/1', progress: 100 })
    expect([...device.flash.read(slot('ota_1').offset, image.length)]).toEqual([...image])

    // Downloaded and waiting: no otadata write, no reset, however long nobody says install.
    clock.advance(60 * 60_000)
    expect(resets).toEqual([])
    expect(otadata()).toMatchObject({ bootSlot: 0, bootState: 'VALID' })

    reports.length = 0
    send({ op: 'install', job: 'r/1' })
    clock.advance(350)
    // esp_ota_set_boot_partition with rollback enabled writes NEW; the reset has not happened yet.
    expect(otadata()).toMatchObject({ bootSlot: 1, bootState: 'NEW' })
    expect(reports.map((r) => r.state)).toEqual(['installing', 'rebooting'])
    clock.advance(150)
    expect(resets).toEqual(['ESP_RST_SW'])
    // The bootloader turned NEW into PENDING_VERIFY and started ota_1; the NBIRTH says verifying.
    expect(otadata()).toMatchObject({ bootSlot: 1, bootState: 'PENDING_VERIFY' })
    expect(device.running).toMatchObject({ slot: 'ota_1', version: '1.1.0', otaState: 'PENDING_VERIFY' })
    expect(birth()).toMatchObject({ state: 'verifying', job: 'r/1', firmwareVersion: '1.1.0', runningSlot: 'ota_1' })

    clock.advance(2000)
    expect(otadata()).toMatchObject({ bootSlot: 1, bootState: 'VALID' })
    expect(reports.at(-1)).toEqual({ state: 'succeeded', job: 'r/1', error: null, firmwareVersion: '1.1.0', runningSlot: 'ota_1' })
    expect(birth()).toMatchObject({ state: 'succeeded', job: 'r/1', firmwareVersion: '1.1.0' })
    // The old image stays in ota_0 for the next rollback, and the next update goes there.
    const old = parseAppImage(device.flash.read(slot('ota_0').offset, slot('ota_0').size), { sha256 })
    expect(old.ok && old.image.appDescription?.version).toBe('1.0.0')
    send(download('r2/1', server.publish('v120.bin', buildAppImage({ version: '1.2.0' })), '1.2.0'))
    clock.advance(5000)
    expect(device.record).toMatchObject({ state: 'downloaded', target: { slot: 'ota_0' }, from: { slot: 'ota_1', version: '1.1.0' } })
    // A node that is reset while it waits still holds the image, and installs it when told.
    device.inject({ kind: 'power-cut' })
    clock.advance(200)
    expect(birth()).toMatchObject({ state: 'downloaded', job: 'r2/1', firmwareVersion: '1.1.0' })
    send({ op: 'install', job: 'r2/1' })
    clock.advance(3000)
    expect(birth()).toMatchObject({ state: 'succeeded', job: 'r2/1', firmwareVersion: '1.2.0', runningSlot: 'ota_0' })
  })

  it('answers resent and out-of-turn commands as the protocol says', () => {
    const { device, server, reports, send, clock } = rig()
    const image = server.publish('v110.bin', buildAppImage({ version: '1.1.0' }))
    send({ op: 'install', job: 'r/1' })
    expect(reports.at(-1)).toMatchObject({ state: 'failed', job: 'r/1', error: { code: 'not-downloaded' } })
    expect(device.record.state).toBe('idle')
    send(download('r/1', image, '1.1.0'))
    clock.advance(5000)
    const requests = server.requests.length
    send(download('r/1', image, '1.1.0'))
    expect(reports.at(-1)).toMatchObject({ state: 'downloaded', job: 'r/1', progress: 100 })
    expect(server.requests.length).toBe(requests)
    send({ op: 'install', job: 'r/1' })
    clock.advance(600)
    // While the new image is unconfirmed another download is refused without touching the job in hand.
    send(download('r/2', image, '1.1.0'))
    expect(reports.at(-1)).toMatchObject({ state: 'failed', job: 'r/2', error: { code: 'busy' } })
    expect(device.record).toMatchObject({ state: 'verifying', job: 'r/1' })
    reports.length = 0
    send({ op: 'install', job: 'r/1' })
    send({ op: 'cancel', job: 'r/1' })
    expect(reports).toEqual([])
    expect(device.command('{"op":"reboot","job":"x"}')).toMatchObject({ ok: false })
  })
})

describe('rollback', () => {
  it('an image that crashes on boot is aborted by the bootloader, and the old slot reports rolled-back', () => {
    const { device, server, resets, send, clock, otadata, birth } = rig()
    send(download('r/1', server.publish('bad.bin', buildAppImage({ version: '1.1.0-crash' })), '1.1.0-crash'))
    clock.advance(5000)
    send({ op: 'install', job: 'r/1' })
    clock.advance(3000)
    expect(resets).toEqual(['ESP_RST_SW', 'ESP_RST_PANIC'])
    const decoded = otadata()
    expect(decoded).toMatchObject({ bootSlot: 0, bootState: 'VALID' })
    expect(decoded.entries.map((e) => e.state)).toEqual(['VALID', 'ABORTED'])
    expect(device.running).toMatchObject({ slot: 'ota_0', version: '1.0.0' })
    const report = birth()
    expect(report).toMatchObject({ state: 'rolled-back', job: 'r/1', firmwareVersion: '1.0.0', runningSlot: 'ota_0', error: { code: 'boot-failed' } })
    expect(report.error?.text).toContain('ESP_RST_PANIC')
    // Aborted stays aborted: later resets keep booting the old image.
    device.inject({ kind: 'power-cut' })
    clock.advance(1000)
    expect(device.running?.slot).toBe('ota_0')
  })

  it('a configured SHA-256, or the boot-crash fault, makes a good-looking image crash too', () => {
    const image = buildAppImage({ version: '1.1.0' })
    const bySha = rig({ crashingSha256s: [sha256Hex(image)] })
    bySha.send(download('r/1', bySha.server.publish('a.bin', image), '1.1.0'))
    bySha.clock.advance(5000)
    bySha.send({ op: 'install', job: 'r/1' })
    bySha.clock.advance(3000)
    expect(bySha.birth()).toMatchObject({ state: 'rolled-back', error: { code: 'boot-failed' } })

    const injected = rig()
    injected.device.inject({ kind: 'boot-crash' })
    injected.send(download('r/1', injected.server.publish('a.bin', image), '1.1.0'))
    injected.clock.advance(5000)
    injected.send({ op: 'install', job: 'r/1' })
    injected.clock.advance(3000)
    expect(injected.birth()).toMatchObject({ state: 'rolled-back', firmwareVersion: '1.0.0', error: { code: 'boot-failed' } })
    // The fault was for one image: the same image installed again boots and confirms itself.
    injected.send(download('r/2', injected.server.publish('a.bin', image), '1.1.0'))
    injected.clock.advance(5000)
    injected.send({ op: 'install', job: 'r/2' })
    injected.clock.advance(3000)
    expect(injected.birth()).toMatchObject({ state: 'succeeded', job: 'r/2', firmwareVersion: '1.1.0' })
  })

  it('an image that fails its self-test marks itself INVALID and restarts: self-test-failed', () => {
    const { server, resets, send, clock, otadata, birth } = rig()
    send(download('r/1', server.publish('st.bin', buildAppImage({ version: '1.1.0-selftest-fail' })), '1.1.0-selftest-fail'))
    clock.advance(5000)
    send({ op: 'install', job: 'r/1' })
    clock.advance(5000)
    expect(resets).toEqual(['ESP_RST_SW', 'ESP_RST_SW'])
    expect(otadata().entries.map((e) => e.state)).toEqual(['VALID', 'INVALID'])
    expect(birth()).toMatchObject({ state: 'rolled-back', firmwareVersion: '1.0.0', error: { code: 'self-test-failed' } })
  })

  it('a power cut while the new image verifies rolls back as interrupted, not as the image’s fault', () => {
    const { device, server, send, clock, birth } = rig()
    send(download('r/1', server.publish('a.bin', buildAppImage({ version: '1.1.0' })), '1.1.0'))
    clock.advance(5000)
    send({ op: 'install', job: 'r/1' })
    clock.advance(600)
    expect(device.record.state).toBe('verifying')
    device.inject({ kind: 'power-cut', at: 'verify' })
    clock.advance(1000)
    expect(birth()).toMatchObject({ state: 'rolled-back', firmwareVersion: '1.0.0', error: { code: 'interrupted' } })
  })
})

describe('download', () => {
  it('refuses an image whose SHA-256 is not the command’s, and erases what it wrote', () => {
    const { device, server, reports, send, clock, otadata } = rig()
    const published = server.publish('a.bin', buildAppImage({ version: '1.1.0' }))
    send(download('r/1', { ...published, sha256: sha256Hex(Uint8Array.of(1)) }, '1.1.0'))
    clock.advance(5000)
    expect(reports.at(-1)).toMatchObject({ state: 'failed', job: 'r/1', error: { code: 'checksum-mismatch' } })
    expect(device.flash.read(slot('ota_1').offset, published.size).every((byte) => byte === 0xff)).toBe(true)
    send({ op: 'install', job: 'r/1' })
    clock.advance(1000)
    expect(otadata()).toMatchObject({ bootSlot: 0 })
    expect(device.record.state).toBe('failed')
  })

  it('refuses a size that is not the server’s, and an image a bootloader would not start', () => {
    const { server, reports, send, clock } = rig()
    const published = server.publish('a.bin', buildAppImage({ version: '1.1.0' }))
    send(download('r/1', { ...published, size: published.size + 1 }, '1.1.0'))
    clock.advance(5000)
    expect(reports.at(-1)).toMatchObject({ state: 'failed', error: { code: 'size-mismatch' } })

    const junk = server.publish('junk.bin', new Uint8Array(5000).fill(0x42))
    send(download('r/2', junk, '1.1.0'))
    clock.advance(5000)
    expect(reports.at(-1)).toMatchObject({ state: 'failed', job: 'r/2', error: { code: 'image-invalid' } })

    // A real ESP-IDF build for another chip: the ESP32-S2 blink app on this ESP32.
    const s2 = server.publish('blink.bin', withAppVersion(blink(), '2.0.0'))
    send(download('r/3', s2, '2.0.0'))
    clock.advance(10_000)
    expect(reports.at(-1)).toMatchObject({ state: 'failed', job: 'r/3', error: { code: 'image-invalid' } })
    expect(reports.at(-1)?.error?.text).toContain('ESP32-S2')
  })

  it('runs a real ESP-IDF build on a node of its chip: the blink app re-stamped 2.0.0 installs on an ESP32-S2', () => {
    const { server, send, clock, birth } = rig({ chip: 'ESP32-S2' })
    send(download('r/1', server.publish('blink.bin', withAppVersion(blink(), '2.0.0')), '2.0.0'))
    clock.advance(10_000)
    send({ op: 'install', job: 'r/1' })
    clock.advance(3000)
    expect(birth()).toMatchObject({ state: 'succeeded', firmwareVersion: '2.0.0', runningSlot: 'ota_1' })
  })

  it('resumes with a Range request from the bytes already in the slot after the link drops', () => {
    const { device, server, send, clock } = rig()
    const image = buildAppImage({ version: '1.1.0', payloadBytes: 100_000 })
    send(download('r/1', server.publish('a.bin', image), '1.1.0'))
    clock.advance(100)
    const written = device.stats.bytesWritten
    expect(written).toBeGreaterThan(0)
    device.linkLost()
    clock.advance(10_000)
    expect(server.requests.map((r) => r.from)).toEqual([0, written])
    expect(device.record.state).toBe('downloaded')
    expect(device.stats).toMatchObject({ resumes: 1, bytesWritten: image.length })
  })

  it('a link lost after the last byte but before the end of the response completes the download, with no Range past the end', () => {
    const { device, server, send, clock, reports } = rig()
    const image = buildAppImage({ version: '1.1.0', payloadBytes: 40_000 })
    send(download('r/1', server.publish('a.bin', image), '1.1.0'))
    while (device.stats.bytesWritten < image.length) clock.advance(1)
    expect(device.record.state).toBe('downloading')
    device.linkLost()
    clock.advance(60_000)
    expect(server.requests.map((r) => r.from)).toEqual([0])
    expect(device.record).toMatchObject({ state: 'downloaded', job: 'r/1', progress: 100 })
    expect(reports.at(-1)).toEqual({ state: 'downloaded', job: 'r/1', progress: 100 })
  })

  it('times out a stalled server and resumes with Range; gives up with download-failed when nothing comes', () => {
    const { device, server, send, clock, reports } = rig({ stallTimeoutMs: 1000, retryDelayMs: 100, maxRetries: 2 })
    server.stallAfter = 20_000
    send(download('r/1', server.publish('a.bin', buildAppImage({ version: '1.1.0' })), '1.1.0'))
    clock.advance(10_000)
    expect(server.requests.map((r) => r.from)).toEqual([0, 20_480])
    expect(device.record.state).toBe('downloaded')

    send(download('r/2', { url: 'http://images.test/missing.bin', sha256: sha256Hex(Uint8Array.of(1)), size: 1000 }, '9'))
    clock.advance(10_000)
    expect(reports.at(-1)).toMatchObject({ state: 'failed', job: 'r/2', error: { code: 'download-failed' } })
    expect(reports.at(-1)?.error?.text).toContain('HTTP 404')
  })

  it('a power cut mid-download ends the job (ESP-IDF keeps the progress in RAM); the next download starts at 0', () => {
    const { device, server, send, clock, birth } = rig()
    const published = server.publish('a.bin', buildAppImage({ version: '1.1.0', payloadBytes: 100_000 }))
    send(download('r/1', published, '1.1.0'))
    clock.advance(100)
    device.inject({ kind: 'power-cut' })
    clock.advance(200)
    expect(birth()).toMatchObject({ state: 'failed', job: 'r/1', error: { code: 'interrupted' }, firmwareVersion: '1.0.0' })
    expect(birth().error?.text).toContain('ESP_RST_POWERON')
    send(download('r/2', published, '1.1.0'))
    clock.advance(10_000)
    expect(server.requests.map((r) => r.from)).toEqual([0, 0])
    expect(device.record).toMatchObject({ state: 'downloaded', job: 'r/2' })
  })

  it('cancel stops a download or drops a downloaded image, erased; later than that it is ignored', () => {
    const { device, server, reports, send, clock } = rig()
    const published = server.publish('a.bin', buildAppImage({ version: '1.1.0', payloadBytes: 100_000 }))
    send(download('r/1', published, '1.1.0'))
    clock.advance(100)
    send({ op: 'cancel', job: 'r/1' })
    expect(reports.at(-1)).toEqual({ state: 'idle', job: 'r/1', progress: 0, error: parseOtaError('cancelled') })
    const requests = server.requests.length
    clock.advance(10_000)
    expect(server.requests.length).toBe(requests)
    expect(device.flash.read(slot('ota_1').offset, published.size).every((byte) => byte === 0xff)).toBe(true)

    send(download('r/2', published, '1.1.0'))
    clock.advance(10_000)
    send({ op: 'cancel', job: 'r/2' })
    expect(device.record).toMatchObject({ state: 'idle', job: 'r/2', error: 'cancelled' })
    expect(device.flash.read(slot('ota_1').offset, published.size).every((byte) => byte === 0xff)).toBe(true)
    send({ op: 'install', job: 'r/2' })
    expect(device.record.state).toBe('idle')
  })
})

describe('power cuts leave a bootable, known-good slot', () => {
  const oldVersion = '1.0.0'
  const newVersion = '1.1.0'

  /** Runs one whole update with the power cut somewhere, then checks what the node boots. */
  function updateWithCut(cut: (r: Rig) => void, seed: number) {
    const r = rig({ seed })
    const image = r.server.publish('a.bin', buildAppImage({ version: newVersion, payloadBytes: 40_000 }))
    cut(r)
    r.send(download('r/1', image, newVersion))
    r.clock.advance(10_000)
    if (r.device.record.state === 'downloaded') r.send({ op: 'install', job: 'r/1' })
    r.clock.advance(10_000)
    return { r, image }
  }

  function expectKnownGood(r: Rig, label: string) {
    const { device } = r
    expect(device.bricked, label).toBeNull()
    const running = device.running!
    expect([oldVersion, newVersion], label).toContain(running.version)
    // Whatever runs passed the bootloader's image checks; run them again on the slot as flash holds it.
    const bytes = device.flash.read(slot(running.slot).offset, slot(running.slot).size)
    expect(parseAppImage(bytes, { sha256 }).ok, label).toBe(true)
    const record = device.record
    // After a reset no job is left half way: every state is one the console can act on.
    expect(['downloaded', 'succeeded', 'failed', 'rolled-back'], label).toContain(record.state)
    if (running.version === newVersion) {
      expect(record.state, label).toBe('succeeded')
      expect(running.otaState, label).toBe('VALID')
    } else {
      expect(running.slot, label).toBe('ota_0')
      expect(record.state, label).not.toBe('succeeded')
    }
    // And the old image is still whole in ota_0, whichever slot runs.
    const old = parseAppImage(device.flash.read(slot('ota_0').offset, slot('ota_0').size), { sha256 })
    expect(old.ok && old.image.appDescription?.version, label).toBe(oldVersion)
  }

  /** After the cut, the console tries again with a new job; it must get through. */
  function expectRecovers(r: Rig, image: { url: string; sha256: string; size: number }, label: string) {
    if (r.device.record.state === 'succeeded') return
    if (r.device.record.state !== 'downloaded') {
      r.send(download('r/2', image, newVersion))
      r.clock.advance(10_000)
    }
    r.send({ op: 'install', job: r.device.record.job })
    r.clock.advance(10_000)
    expect(r.device.birthReport(), label).toMatchObject({ state: 'succeeded', firmwareVersion: newVersion, runningSlot: 'ota_1' })
  }

  it('at every flash operation of an update, cut at a random point inside it', () => {
    // A dry run counts the flash operations an update takes: the download's erases and writes, the
    // otadata write of install, the bootloader's NEW → PENDING_VERIFY, and VALID after the self-test.
    const dry = updateWithCut(() => {}, 1)
    expect(dry.r.device.record.state).toBe('succeeded')
    const random = createRandom(2024)
    let cuts = 0
    for (let op = 0; ; op++) {
      let operations = 0
      const { r, image } = updateWithCut((rig) => {
        operations = rig.device.flash.stats.operations
        rig.device.flash.armPowerCut({ afterOps: op, fraction: random.next() })
      }, op)
      const total = r.device.flash.stats.operations - operations
      if (r.device.flash.stats.cuts === 0) {
        // Past the last operation of the update: every one has been cut once.
        expect(total).toBeGreaterThan(20)
        break
      }
      cuts++
      expect(r.resets, `op ${op}`).toContain('ESP_RST_POWERON')
      expectKnownGood(r, `cut at flash operation ${op}`)
      expectRecovers(r, image, `cut at flash operation ${op}`)
    }
    expect(cuts).toBeGreaterThan(20)
  })

  it('at every step of an update, on demand and at random', () => {
    for (const step of otaSteps) {
      for (const seed of [1, 2, 3, 4, 5]) {
        const { r, image } = updateWithCut((rig) => rig.device.inject({ kind: 'power-cut', at: step }), seed)
        expect(r.device.stats.powerCuts, step).toBe(1)
        expectKnownGood(r, `${step} (seed ${seed})`)
        expectRecovers(r, image, `${step} (seed ${seed})`)
      }
    }
    // Random cuts at a high rate, many seeds: whatever happens, the node always boots a good image.
    for (let seed = 0; seed < 40; seed++) {
      const random = rig({ seed, faults: { powerCut: 0.3 } })
      const image = random.server.publish('a.bin', buildAppImage({ version: newVersion, payloadBytes: 40_000 }))
      random.send(download('r/1', image, newVersion))
      random.clock.advance(10_000)
      if (random.device.record.state === 'downloaded') random.send({ op: 'install', job: 'r/1' })
      // Long enough for a few cut confirmations in a row to be retried at the next boot.
      random.clock.advance(60_000)
      expectKnownGood(random, `random cuts, seed ${seed}`)
    }
  })

  it('a cut while the node waits for install falls there or not at all, never inside the install a quick console sent', () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const clock = createManualClock()
      const server = new MemoryServer(clock)
      const image = server.publish('a.bin', buildAppImage({ version: newVersion, payloadBytes: 40_000 }))
      const start = (device: OtaDevice, reason: RebootReason) => {
        if (device.boot(reason) === 'run') device.online()
      }
      const device: OtaDevice = new OtaDevice({
        clock,
        random: createRandom(seed),
        firmwareVersion: oldVersion,
        fetch: server.fetch,
        host: {
          // A console that answers `downloaded` with install before the node's next turn.
          report: (report) => {
            if (report.state === 'downloaded') device.command(encodeOtaCommand({ op: 'install', job: report.job! }))
          },
          reset: (reason, offMs) => {
            device.reset()
            clock.schedule(offMs ?? 100, () => start(device, reason))
          },
          dropLink: () => device.linkLost(),
        },
      })
      start(device, 'ESP_RST_POWERON')
      device.inject({ kind: 'power-cut', at: 'downloaded' })
      device.command(encodeOtaCommand(download('r/1', image, newVersion)))
      clock.advance(10_000)
      expect(device.stats.powerCuts, `seed ${seed}`).toBe(0)
      expect(device.running, `seed ${seed}`).toMatchObject({ version: newVersion, otaState: 'VALID' })
      expect(device.record.state, `seed ${seed}`).toBe('succeeded')
    }
  })

  it('the bootloader never starts a half-written image: a cut slot is refused and the selection falls back', () => {
    const { device } = rig()
    // Break the image in ota_0 (as a stray write would) and see the bootloader fall back to factory.
    device.flash.erase(slot('ota_0').offset + 0x4000, flashSectorSize)
    const result = runBootloader(device.flash, { chip: 'ESP32' })
    expect(result.ok && result.app.partition.name).toBe('factory')
    expect(result.ok && result.refused.map((r) => r.partition)).toEqual(['ota_0'])
  })
})

describe('command line', () => {
  it('turns OTA on with --ota, with random OTA faults and TLS trust, and refuses those flags without it', () => {
    expect(parseFleetArgs([]).fleet.ota).toBeUndefined()
    expect(parseFleetArgs(['--ota']).fleet.ota).toEqual({})
    expect(parseFleetArgs(['--ota', '--ota-faults', 'powerCut=0.05, linkDrop=0.01,stall=0.02,bootCrash=0.1', '--ota-insecure']).fleet.ota).toEqual({
      faults: { powerCut: 0.05, linkDrop: 0.01, stall: 0.02, bootCrash: 0.1 },
      insecure: true,
    })
    expect(() => parseFleetArgs(['--ota-faults', 'powerCut=0.1'])).toThrow(UsageError)
    expect(() => parseFleetArgs(['--ota', '--ota-faults', 'meteor=0.1'])).toThrow(/unknown fault/)
    expect(() => parseFleetArgs(['--ota', '--ota-faults', 'stall=2'])).toThrow(/probability/)
    expect(() => parseFleetArgs(['--ota', '--ota-ca', '/nonexistent/ca.pem'])).toThrow(/cannot read/)
  })
})

describe('the console’s rollout state machine on the other end', () => {
  /** Five nodes, a canary of two, driven by shared/domain/ota/rollout.ts as the console would drive them. */
  function runRollout(version: string) {
    const clock = createManualClock()
    const server = new MemoryServer(clock)
    const published = server.publish('image.bin', buildAppImage({ version, payloadBytes: 40_000 }))
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5']
    const planned = planRollout(
      ids.map((id) => ({ id, group: 'Plant1', tags: [], firmwareVersion: '1.0.0', online: true, chip: 'esp32' })),
      { rolloutId: 'R', image: { version, chip: 'esp32', ...published }, selection: {}, seed: 1, phases: [{ kind: 'canary', devices: 2, soakMs: 60_000 }, { kind: 'percentage', percent: 100, soakMs: 60_000 }] },
    )
    if (!planned.ok) throw new Error(JSON.stringify(planned))
    const rollout = new Rollout(planned.plan, { random: createRandom(3).next })
    const devices = new Map<string, OtaDevice>()
    const online = new Set<string>()
    ids.forEach((id, index) => {
      const boot = (reason: RebootReason) => {
        if (device.boot(reason) !== 'run') return
        online.add(id)
        rollout.deviceOnline(id, clock.now())
        rollout.receiveMetrics(id, otaReportMetrics(device.birthReport()), clock.now())
        device.online()
      }
      const device: OtaDevice = new OtaDevice({
        clock,
        random: createRandom(100 + index),
        firmwareVersion: '1.0.0',
        fetch: server.fetch,
        host: {
          report: (report) => online.has(id) && rollout.receiveMetrics(id, otaReportMetrics(report), clock.now()),
          reset: (reason, offMs) => {
            online.delete(id)
            rollout.deviceOffline(id, clock.now())
            if (reason !== 'ESP_RST_SW') rollout.recordHealthEvent(id, reason === 'ESP_RST_PANIC' ? 'crash' : 'reboot', clock.now())
            device.reset()
            clock.schedule(offMs ?? 500, () => boot(reason))
          },
          dropLink: () => device.linkLost(),
        },
      })
      devices.set(id, device)
      boot('ESP_RST_POWERON')
    })
    rollout.start(clock.now())
    const problems: unknown[] = []
    for (let second = 0; second < 3 * 3600 && !rollout.isSettled(); second++) {
      for (const effect of rollout.takeEffects()) {
        if (effect.kind === 'command' && online.has(effect.deviceId)) devices.get(effect.deviceId)!.command(encodeOtaCommand(effect.command))
        if (effect.kind === 'protocol-problem') problems.push(effect)
      }
      clock.advance(1000)
      rollout.tick(clock.now())
    }
    return { rollout, devices, problems }
  }

  it('takes every node to the new image, and hears nothing it calls a protocol problem', () => {
    const { rollout, devices, problems } = runRollout('1.1.0')
    expect(problems).toEqual([])
    expect(rollout.counts().succeeded).toBe(5)
    for (const device of devices.values()) expect(device.running).toMatchObject({ version: '1.1.0', otaState: 'VALID' })
  })

  it('stops at the canary when its image crashes on boot: both canaries rolled back, nothing else touched', () => {
    const { rollout, devices, problems } = runRollout('1.1.0-crash')
    expect(problems).toEqual([])
    expect(rollout.counts()).toMatchObject({ 'rolled-back': 2, queued: 3, succeeded: 0 })
    expect(rollout.status).toBe('paused')
    for (const device of devices.values()) expect(device.running).toMatchObject({ version: '1.0.0', slot: 'ota_0' })
  })
})
