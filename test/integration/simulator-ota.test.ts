// OTA-enabled virtual nodes against a real broker (aedes) and a real HTTP(S) image server on loopback,
// driven by NCMDs built with the console's own encoders (shared/domain/ota/protocol.ts) and read back
// with its own parser, after resolving aliases from each NBIRTH as a Sparkplug host does.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { otaCommandPublish, parseOtaReport, type OtaCommand, type OtaReport } from '../../shared/domain/ota/protocol'
import { rebirthCommand } from '../../shared/domain/sparkplug/host-state'
import type { Metric, Payload } from '../../shared/domain/sparkplug/payload'
import { decodePayload, encodePayload } from '../../shared/wire/sparkplug'
import { startVirtualFleet, type VirtualFleet, type VirtualFleetOptions } from '../../simulator/fleet/fleet'
import { buildAppImage, sha256Hex } from '../../simulator/ota/app-image'
import { startAedes, type TestBroker } from '../support/brokers'
import { until } from '../support/until'
import { selfSignedLoopbackCertificate } from '../support/certificates'

const group = 'Plant1'

interface Seen {
  index: number
  kind: string
  node: string
  payload: Payload
  /** Metrics with their names, resolved through the aliases of the node's last NBIRTH. */
  metrics: Metric[]
  ota: OtaReport
}

/** A host-like subscriber: learns aliases from each NBIRTH and reads OTA reports with the protocol's parser. */
class Spy {
  readonly seen: Seen[] = []
  private readonly aliases = new Map<string, Map<bigint, string>>()

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, bytes) => {
      const [, , kind = '', node = ''] = topic.split('/')
      if (kind === 'STATE' || node === '') return
      const payload = decodePayload(bytes)
      if (kind === 'NBIRTH') this.aliases.set(node, new Map(payload.metrics.filter((m) => m.alias !== undefined).map((m) => [m.alias!, m.name!])))
      const names = this.aliases.get(node)
      const metrics = payload.metrics.map((m) => (m.name === undefined && m.alias !== undefined ? { ...m, name: names?.get(m.alias) } : m) as Metric)
      this.seen.push({ index: this.seen.length, kind, node, payload, metrics, ota: parseOtaReport(metrics).report })
    })
  }

  static async connect(url: string): Promise<Spy> {
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0 })
    await client.subscribeAsync('spBv1.0/#', { qos: 1 })
    return new Spy(client)
  }

  get mark(): number {
    return this.seen.length
  }

  of(node: string, from = 0): Seen[] {
    return this.seen.slice(from).filter((seen) => seen.node === node)
  }

  /** The first message of `node` from `from` on that matches. */
  next(node: string, match: (seen: Seen) => boolean, from = 0, timeoutMs = 10_000): Promise<Seen> {
    return until(`a matching message from ${node}`, () => this.of(node, from).find(match), timeoutMs, () => this.describe(node, from))
  }

  describe(node: string, from = 0): string {
    return this.of(node, from)
      .map((seen) => `${seen.kind} ${JSON.stringify(seen.ota)}`)
      .join('\n')
  }

  async send(node: string, command: OtaCommand): Promise<void> {
    const publish = otaCommandPublish(group, node, command, Date.now())
    await this.client.publishAsync(publish.topic, Buffer.from(encodePayload(publish.payload)), { qos: publish.qos })
  }
}

const value = (seen: Seen, name: string) => seen.metrics.find((m) => m.name === name)?.value

interface ServedRequest {
  path: string
  range: string | undefined
  sent: number
  complete: boolean
  closed: boolean
}

/** A tiny image server: byte ranges, paced output, and a response that stops sending on demand. */
class ImageServer {
  readonly requests: ServedRequest[] = []
  private readonly files = new Map<string, Buffer>()
  /** The next response of this path sends this many bytes and then nothing, keeping the connection open. */
  readonly stallNext = new Map<string, number>()

  private constructor(
    readonly server: Server,
    readonly base: string,
    private readonly pace: { chunk: number; intervalMs: number },
  ) {}

  static async start(options: { tls?: { key: Buffer; cert: Buffer }; chunk?: number; intervalMs?: number } = {}): Promise<ImageServer> {
    let instance: ImageServer | null = null
    const handler = (req: IncomingMessage, res: ServerResponse) => instance!.handle(req, res)
    const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    instance = new ImageServer(server, `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`, { chunk: options.chunk ?? 8192, intervalMs: options.intervalMs ?? 10 })
    return instance
  }

  publish(name: string, bytes: Uint8Array): { url: string; sha256: string; size: number } {
    this.files.set(`/${name}`, Buffer.from(bytes))
    return { url: `${this.base}/${name}`, sha256: sha256Hex(bytes), size: bytes.length }
  }

  of(name: string): ServedRequest[] {
    return this.requests.filter((r) => r.path === `/${name}`)
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const file = this.files.get(path)
    const entry: ServedRequest = { path, range: req.headers.range, sent: 0, complete: false, closed: false }
    this.requests.push(entry)
    if (!file) return void res.writeHead(404).end()
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    let position = range ? Number(range[1]) : 0
    if (range) res.writeHead(206, { 'Content-Range': `bytes ${position}-${file.length - 1}/${file.length}`, 'Content-Length': file.length - position, 'Accept-Ranges': 'bytes' })
    else res.writeHead(200, { 'Content-Length': file.length, 'Accept-Ranges': 'bytes' })
    const stallAfter = this.stallNext.get(path)
    this.stallNext.delete(path)
    const timer = setInterval(() => {
      if (stallAfter !== undefined && entry.sent >= stallAfter) return
      const piece = file.subarray(position, position + this.pace.chunk)
      position += piece.length
      entry.sent += piece.length
      res.write(piece)
      if (position >= file.length) {
        clearInterval(timer)
        entry.complete = true
        res.end()
      }
    }, this.pace.intervalMs)
    res.on('close', () => {
      clearInterval(timer)
      entry.closed = true
    })
  }
}

const otaTiming = { stallTimeoutMs: 600, retryDelayMs: 200, installMs: 100, selfTestMs: 400, crashAfterMs: 150 }

async function startFleet(broker: TestBroker, options: Partial<VirtualFleetOptions>): Promise<VirtualFleet> {
  return startVirtualFleet({
    brokerUrl: broker.url,
    groupId: group,
    devicesPerNode: 1,
    rateHz: 1,
    diagnosticsIntervalMs: 0,
    doorOpensPerHour: 0,
    firmwareVersion: '1.0.0',
    reconnectDelayMs: 100,
    bootDelayMs: 100,
    seed: 11,
    ...options,
  })
}

describe('OTA on virtual nodes (aedes, HTTP)', () => {
  let broker: TestBroker & { aedes: unknown }
  let server: ImageServer
  let spy: Spy
  let fleet: VirtualFleet
  let good: { url: string; sha256: string; size: number }
  let crashing: { url: string; sha256: string; size: number }

  beforeAll(async () => {
    broker = await startAedes()
    server = await ImageServer.start()
    spy = await Spy.connect(broker.url)
    // 400 KB at 8 KB per 10 ms: half a second of download, long enough to cut in the middle of.
    good = server.publish('cold-room-1.1.0.bin', buildAppImage({ version: '1.1.0', payloadBytes: 400_000 }))
    crashing = server.publish('cold-room-1.2.0-crash.bin', buildAppImage({ version: '1.2.0-crash', payloadBytes: 100_000 }))
    fleet = await startFleet(broker, { nodes: 4, ota: otaTiming })
    for (const node of fleet.nodes) await spy.next(node.edgeNodeId, (s) => s.kind === 'NBIRTH')
  })

  afterAll(async () => {
    await fleet?.stop()
    await spy?.client.endAsync()
    await server?.close()
    await broker?.close()
  })

  it('announces its OTA metrics in NBIRTH: idle, the running slot and the image’s version', async () => {
    const birth = await spy.next('esp32-001', (s) => s.kind === 'NBIRTH')
    expect(birth.ota).toEqual({ state: 'idle', job: '', progress: 0, error: null, firmwareVersion: '1.0.0', runningSlot: 'ota_0' })
    expect(birth.payload.metrics.find((m) => m.name === 'OTA/Command')).toMatchObject({ type: 'String', value: '', alias: 17n })
  })

  it('downloads, resumes with Range after the link drops mid-way, and then waits for install', async () => {
    const node = 'esp32-001'
    const mark = spy.mark
    await spy.send(node, { op: 'download', job: 'r1/1', ...good, version: '1.1.0' })
    await spy.next(node, (s) => s.ota.state === 'downloading' && s.ota.job === 'r1/1', mark)
    await spy.next(node, (s) => (s.ota.progress ?? 0) >= 20, mark)
    fleet.inject(node, { kind: 'drop', cause: 'WIFI_REASON_BEACON_TIMEOUT' })
    // The broker sends the Will; the node comes back with a new session and tells where it is.
    const death = await spy.next(node, (s) => s.kind === 'NDEATH', mark)
    const reborn = await spy.next(node, (s) => s.kind === 'NBIRTH', death.index)
    expect(reborn.ota).toMatchObject({ job: 'r1/1', runningSlot: 'ota_0', firmwareVersion: '1.0.0' })
    expect(['downloading', 'downloaded']).toContain(reborn.ota.state)
    const done = await spy.next(node, (s) => s.ota.state === 'downloaded', mark)
    expect(done.ota).toMatchObject({ job: 'r1/1', progress: 100 })

    const requests = server.of('cold-room-1.1.0.bin')
    expect(requests).toHaveLength(2)
    expect(requests[0]).toMatchObject({ range: undefined, complete: false })
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(requests[1]!.range ?? '')?.[1])
    expect(resumedAt).toBeGreaterThan(0)
    expect(resumedAt).toBeLessThan(good.size)
    expect(requests[1]).toMatchObject({ complete: true, sent: good.size - resumedAt })

    // Downloaded is where it stays: no install without the command, so an abort is exact.
    const waiting = spy.mark
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(spy.of(node, waiting).filter((s) => s.kind === 'NDEATH' || s.ota.state !== undefined)).toEqual([])
    expect(fleet.node(node).ota!.running).toMatchObject({ slot: 'ota_0', version: '1.0.0' })
  })

  it('install → rebooting → NBIRTH of the new image (verifying) → succeeded with the new version', async () => {
    const node = 'esp32-001'
    await until('downloaded', () => fleet.node(node).ota!.record.state === 'downloaded')
    const mark = spy.mark
    await spy.send(node, { op: 'install', job: 'r1/1' })
    const installing = await spy.next(node, (s) => s.ota.state === 'installing', mark)
    const rebooting = await spy.next(node, (s) => s.ota.state === 'rebooting', installing.index)
    // An orderly restart: the node's own NDEATH, after its last report.
    const death = await spy.next(node, (s) => s.kind === 'NDEATH', rebooting.index)
    const birth = await spy.next(node, (s) => s.kind === 'NBIRTH', death.index)
    expect(birth.ota).toMatchObject({ state: 'verifying', job: 'r1/1', firmwareVersion: '1.1.0', runningSlot: 'ota_1' })
    expect(value(birth, 'Diagnostics/Reboot Reason')).toBe('ESP_RST_SW')
    const succeeded = await spy.next(node, (s) => s.ota.state === 'succeeded', birth.index)
    expect(succeeded.kind).toBe('NDATA')
    expect(succeeded.ota).toEqual({ state: 'succeeded', job: 'r1/1', error: null, firmwareVersion: '1.1.0', runningSlot: 'ota_1' })

    // Any later NBIRTH says the same: the state lives in NVS.
    const before = spy.mark
    const rebirth = rebirthCommand(group, node, Date.now())
    await spy.client.publishAsync(rebirth.topic, Buffer.from(encodePayload(rebirth.payload)))
    const again = await spy.next(node, (s) => s.kind === 'NBIRTH', before)
    expect(again.ota).toMatchObject({ state: 'succeeded', job: 'r1/1', firmwareVersion: '1.1.0', runningSlot: 'ota_1', error: null })
  })

  it('an image that crashes on boot: the old image comes back and reports rolled-back with the reason', async () => {
    const node = 'esp32-002'
    const mark = spy.mark
    await spy.send(node, { op: 'download', job: 'r2/1', ...crashing, version: '1.2.0-crash' })
    await spy.next(node, (s) => s.ota.state === 'downloaded', mark)
    await spy.send(node, { op: 'install', job: 'r2/1' })
    const death = await spy.next(node, (s) => s.kind === 'NDEATH', mark)
    const birth = await spy.next(node, (s) => s.kind === 'NBIRTH', death.index)
    // The crashing image never reached the broker: the next birth is the old image's.
    expect(birth.ota).toMatchObject({ state: 'rolled-back', job: 'r2/1', firmwareVersion: '1.0.0', runningSlot: 'ota_0', error: { code: 'boot-failed' } })
    expect(birth.ota.error?.text).toContain('ESP_RST_PANIC')
    expect(value(birth, 'Diagnostics/Reboot Reason')).toBe('ESP_RST_PANIC')
    expect(value(birth, 'Diagnostics/Core Dump Present')).toBe(true)
    expect(fleet.node(node).ota!.running).toMatchObject({ slot: 'ota_0', otaState: 'VALID' })
  })

  it('cancel stops a download: idle with the reason, the connection dropped, nothing installed', async () => {
    const node = 'esp32-003'
    const mark = spy.mark
    const image = server.publish('cancel-me.bin', buildAppImage({ version: '1.3.0', payloadBytes: 400_000 }))
    await spy.send(node, { op: 'download', job: 'r3/1', ...image, version: '1.3.0' })
    await spy.next(node, (s) => (s.ota.progress ?? 0) >= 10 && s.kind === 'NDATA', mark)
    await spy.send(node, { op: 'cancel', job: 'r3/1' })
    const idle = await spy.next(node, (s) => s.ota.state === 'idle', mark)
    expect(idle.ota).toMatchObject({ job: 'r3/1', progress: 0, error: { code: 'cancelled' } })
    await until('the server sees the connection close', () => server.of('cancel-me.bin')[0]?.closed)
    expect(server.of('cancel-me.bin')).toMatchObject([{ complete: false }])
    // A late install for the cancelled job installs nothing.
    await spy.send(node, { op: 'install', job: 'r3/1' })
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(fleet.node(node).ota!.running?.slot).toBe('ota_0')
    expect(spy.of(node, idle.index + 1).filter((s) => s.kind === 'NDEATH')).toEqual([])
  })

  it('a server that stops sending: the node times out and resumes with Range', async () => {
    const node = 'esp32-003'
    const image = server.publish('stall.bin', buildAppImage({ version: '1.3.1', payloadBytes: 200_000 }))
    server.stallNext.set('/stall.bin', 65_536)
    const mark = spy.mark
    await spy.send(node, { op: 'download', job: 'r3/2', ...image, version: '1.3.1' })
    await spy.next(node, (s) => s.ota.state === 'downloaded' && s.ota.job === 'r3/2', mark)
    expect(server.of('stall.bin').map((r) => r.range)).toEqual([undefined, 'bytes=65536-'])
  })

  it('an image whose SHA-256 is not the command’s is refused: failed, checksum-mismatch', async () => {
    const node = 'esp32-004'
    const mark = spy.mark
    await spy.send(node, { op: 'download', job: 'r4/1', ...good, sha256: crashing.sha256, version: '1.1.0' })
    const failed = await spy.next(node, (s) => s.ota.state === 'failed', mark)
    expect(failed.ota).toMatchObject({ job: 'r4/1', error: { code: 'checksum-mismatch' } })
    await spy.send(node, { op: 'install', job: 'r4/1' })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(fleet.node(node).ota!.running?.slot).toBe('ota_0')
  })
})

describe('OTA over HTTPS', () => {
  let dir: string
  let broker: TestBroker
  let server: ImageServer
  let spy: Spy
  const fleets: VirtualFleet[] = []

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-ota-tls-'))
    const tls = selfSignedLoopbackCertificate(dir)
    broker = await startAedes()
    server = await ImageServer.start({ tls, chunk: 65_536 })
    spy = await Spy.connect(broker.url)
  })

  afterAll(async () => {
    await Promise.all(fleets.map((fleet) => fleet.stop()))
    await spy?.client.endAsync()
    await server?.close()
    await broker?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('trusts the self-signed server given its certificate as CA, or when told to trust anything, and refuses it otherwise', async () => {
    const image = server.publish('tls.bin', buildAppImage({ version: '1.1.0' }))
    fleets.push(await startFleet(broker, { nodeIdPrefix: 'trusting-', ota: { ...otaTiming, ca: readFileSync(join(dir, 'cert.pem')) } }))
    fleets.push(await startFleet(broker, { nodeIdPrefix: 'lax-', ota: { ...otaTiming, insecure: true } }))
    fleets.push(await startFleet(broker, { nodeIdPrefix: 'wary-', ota: { ...otaTiming, maxRetries: 0 } }))
    const mark = spy.mark
    for (const [node, job] of [['trusting-001', 't/1'], ['lax-001', 'l/1'], ['wary-001', 'w/1']] as const) await spy.send(node, { op: 'download', job, ...image, version: '1.1.0' })
    await spy.next('trusting-001', (s) => s.ota.state === 'downloaded', mark)
    await spy.next('lax-001', (s) => s.ota.state === 'downloaded', mark)
    const refused = await spy.next('wary-001', (s) => s.ota.state === 'failed', mark)
    expect(refused.ota.error).toMatchObject({ code: 'download-failed' })
    expect(refused.ota.error?.text).toMatch(/self[- ]signed|certificate/i)
  })
})
