import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCore, silentLogger, type Core } from '../../electron/core'
import type { ServiceState } from '../../shared/contract'
import { freePort, haveMosquitto, startAedes, startMosquitto, type TestBroker } from '../support/brokers'

let dir: string
const cleanups: (() => Promise<void> | void)[] = []
const operator = { actor: 'ada', via: 'local' } as const

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'console-broker-'))
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  rmSync(dir, { recursive: true, force: true })
})

function start(options: { mqttPort?: number } = {}): Core {
  const core = createCore({ dataDir: join(dir, 'data'), host: { kind: 'headless' }, log: silentLogger, mqttPort: options.mqttPort ?? 0 })
  cleanups.push(() => core.dispose())
  return core
}

async function brokerState(core: Core, predicate: (state: ServiceState) => boolean): Promise<ServiceState> {
  const deadline = Date.now() + 8000
  for (;;) {
    const state = core.health().services.broker
    if (predicate(state)) return state
    if (Date.now() > deadline) throw new Error(`broker state never matched; last: ${JSON.stringify(state)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

function track<T extends TestBroker>(broker: T): T {
  cleanups.push(() => broker.close())
  return broker
}

/** The retained STATE message of a host id, as a fresh client sees it. */
async function retainedState(url: string, hostId: string): Promise<{ online: boolean; timestamp: number }> {
  const client = await mqtt.connectAsync(url, { protocolVersion: 4 })
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no retained STATE')), 3000)
      client.on('message', (_topic, payload) => {
        clearTimeout(timer)
        resolve(JSON.parse(payload.toString()))
      })
      void client.subscribeAsync(`spBv1.0/STATE/${hostId}`, { qos: 1 })
    })
  } finally {
    await client.endAsync()
  }
}

describe('the embedded broker', () => {
  it('starts on loopback, and the console is online on it as a Sparkplug host (tck-id-host-topic-phid-birth-topic, -qos, -retain, -payload)', async () => {
    const core = start()
    const state = await brokerState(core, (s) => s.state === 'up')
    expect(state.detail).toMatch(/Embedded broker on 127\.0\.0\.1:\d+/)
    expect(core.broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/)
    const birth = await retainedState(core.broker.url!, 'esp-fleet-console')
    expect(birth.online).toBe(true)
    expect(Math.abs(birth.timestamp - Date.now())).toBeLessThan(10_000)
  })

  it('says which port is taken and keeps the console running with the broker down', async () => {
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
    const port = (blocker.address() as AddressInfo).port

    const core = start({ mqttPort: port })
    const state = await brokerState(core, (s) => s.state === 'down')
    expect(state.detail).toContain(`Port ${port} on 127.0.0.1 is taken`)
    expect(await core.dispatch('settings.get', {}, operator)).toMatchObject({ ok: true })
  })

  it('reports a TLS listener without certificates as degraded, with the plain listener still serving', async () => {
    const core = start()
    await brokerState(core, (s) => s.state === 'up')
    await core.dispatch('settings.update', { mqttTlsPort: 18883 }, operator)
    const state = await brokerState(core, (s) => s.state === 'degraded' && s.detail.includes('TLS'))
    expect(state.detail).toContain('needs a server certificate')
    expect(core.broker.url).not.toBeNull()
  })

  it('accepts devices with a certificate from the site CA on its TLS port, and refuses those without', async () => {
    const pki = makePki(dir)
    const core = start()
    await brokerState(core, (s) => s.state === 'up')
    const tlsPort = await freePort()
    await core.dispatch('settings.update', { mqttTlsPort: tlsPort, mqttTlsCertFile: pki.serverCert, mqttTlsKeyFile: pki.serverKey, mqttTlsCaFile: pki.caCert }, operator)
    await brokerState(core, (s) => s.state === 'up' && s.detail.includes(`TLS 127.0.0.1:${tlsPort}`))

    const device = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { protocolVersion: 4, ca: read(pki.caCert), cert: read(pki.deviceCert), key: read(pki.deviceKey), rejectUnauthorized: true, servername: 'localhost', reconnectPeriod: 0 })
    expect(device.connected).toBe(true)
    await device.endAsync()

    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { protocolVersion: 4, ca: read(pki.caCert), rejectUnauthorized: true, servername: 'localhost', reconnectPeriod: 0, connectTimeout: 3000 }),
    ).rejects.toThrow()
  })
})

describe('an external broker', () => {
  let external: Awaited<ReturnType<typeof startAedes>>

  beforeEach(async () => {
    external = track(await startAedes())
  })

  it('is used instead of the embedded one when chosen in Settings, with a Will whose timestamp the birth repeats (tck-id-host-topic-phid-death-required, tck-id-host-topic-phid-birth-payload-timestamp)', async () => {
    const wills: { topic: string; payload: string; retain: boolean; qos: number }[] = []
    external.aedes.on('client', (client) => {
      const will = (client as unknown as { will?: { topic: string; payload: Buffer; retain: boolean; qos: number } }).will
      if (will) wills.push({ topic: will.topic, payload: will.payload.toString(), retain: will.retain, qos: will.qos })
    })
    const core = start()
    await brokerState(core, (s) => s.state === 'up')
    await core.dispatch('settings.update', { mqttMode: 'external', mqttUrl: external.url, sparkplugHostId: 'control-room' }, operator)
    const state = await brokerState(core, (s) => s.state === 'up' && s.detail.includes(external.url))
    expect(state.detail).toContain('Sparkplug host "control-room"')

    const birth = await retainedState(external.url, 'control-room')
    expect(wills).toHaveLength(1)
    expect(wills[0]).toMatchObject({ topic: 'spBv1.0/STATE/control-room', retain: true, qos: 1 })
    const will = JSON.parse(wills[0]!.payload)
    expect(will.online).toBe(false)
    expect(birth).toEqual({ online: true, timestamp: will.timestamp })
  })

  it('goes offline explicitly on a clean stop, and the Will says so when the console vanishes (tck-id-host-topic-phid-death-payload)', async () => {
    const core = createCore({ dataDir: join(dir, 'data'), host: { kind: 'headless' }, log: silentLogger, mqttPort: 0 })
    await core.dispatch('settings.update', { mqttMode: 'external', mqttUrl: external.url }, operator)
    await brokerState(core, (s) => s.state === 'up' && s.detail.includes(external.url))
    await core.dispose()
    expect((await retainedState(external.url, 'esp-fleet-console')).online).toBe(false)
  })

  it('republishes its birth when someone else declares it offline (tck-id-message-flow-hid-sparkplug-state-message-delivered)', async () => {
    const core = start()
    await core.dispatch('settings.update', { mqttMode: 'external', mqttUrl: external.url }, operator)
    await brokerState(core, (s) => s.state === 'up' && s.detail.includes(external.url))
    const impostor = await mqtt.connectAsync(external.url, { protocolVersion: 4 })
    await impostor.publishAsync('spBv1.0/STATE/esp-fleet-console', JSON.stringify({ online: false, timestamp: Date.now() }), { qos: 1, retain: true })
    await impostor.endAsync()
    const deadline = Date.now() + 3000
    let state = await retainedState(external.url, 'esp-fleet-console')
    while (!state.online && Date.now() < deadline) state = await retainedState(external.url, 'esp-fleet-console')
    expect(state.online).toBe(true)
  })

  it('says when nothing answers at the URL, and keeps serving the console', async () => {
    const core = start()
    const port = external.port
    await external.close()
    await core.dispatch('settings.update', { mqttMode: 'external', mqttUrl: `mqtt://127.0.0.1:${port}` }, operator)
    const down = await brokerState(core, (s) => s.state === 'down')
    expect(down.detail).toContain('Nothing answers at mqtt://127.0.0.1')
    expect(await core.dispatch('settings.get', {}, operator)).toMatchObject({ ok: true })
  })

  it.skipIf(!haveMosquitto)('logs in to mosquitto with a user name and password, and says so when they are wrong', async () => {
    const mosquitto = track(await startMosquitto({ users: { console: 'right-password' } }))
    const core = start()
    await core.dispatch('settings.update', { mqttMode: 'external', mqttUrl: mosquitto.url, mqttUsername: 'console', mqttPassword: 'wrong-password' }, operator)
    const refused = await brokerState(core, (s) => s.state === 'down' && s.detail.includes('refused'))
    expect(refused.detail).toContain("refused the console's credentials")
    await core.dispatch('settings.update', { mqttPassword: 'right-password' }, operator)
    await brokerState(core, (s) => s.state === 'up' && s.detail.includes(mosquitto.url))
    expect((await retainedState(mosquitto.url.replace('mqtt://', 'mqtt://console:right-password@'), 'esp-fleet-console')).online).toBe(true)
  })

  it.skipIf(!haveMosquitto)('moves to a new broker within seconds when the old one hangs, and stops without waiting for it', async () => {
    const hung = track(await startMosquitto())
    const next = track(await startMosquitto())
    const core = start()
    await core.dispatch('settings.update', { mqttMode: 'external', mqttUrl: hung.url }, operator)
    await brokerState(core, (s) => s.state === 'up' && s.detail.includes(hung.url))
    hung.freeze()
    const asked = Date.now()
    await core.dispatch('settings.update', { mqttUrl: next.url }, operator)
    await brokerState(core, (s) => s.state === 'up' && s.detail.includes(next.url))
    expect(Date.now() - asked).toBeLessThan(6000)
    expect((await retainedState(next.url, 'esp-fleet-console')).online).toBe(true)
  })
})

const read = (file: string) => readFileSync(file)

/** A site CA, a broker certificate for localhost and one device certificate, made by openssl. */
function makePki(root: string) {
  const at = (name: string) => join(root, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' })
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=Site CA', '-keyout', at('ca.key'), '-out', at('ca.pem'))
  for (const [name, cn] of [['server', 'localhost'], ['device', 'node-0001']] as const) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${cn}`, '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`))
    openssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-days', '1', '-out', at(`${name}.pem`), ...(name === 'server' ? ['-extfile', writeExt(root)] : []))
  }
  return { caCert: at('ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key'), deviceCert: at('device.pem'), deviceKey: at('device.key') }
}

function writeExt(root: string): string {
  const file = join(root, 'server.ext')
  writeFileSync(file, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n')
  return file
}
