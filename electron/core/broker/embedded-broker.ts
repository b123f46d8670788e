import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { Aedes } from 'aedes'

export interface EmbeddedBrokerOptions {
  /** Plain MQTT port; 0 picks a free one (tests). */
  port: number
  /** Listen on every interface instead of 127.0.0.1 only. */
  lan: boolean
  /** TLS listener for devices with client certificates signed by `caFile`. */
  tls?: { port: number; certFile: string; keyFile: string; caFile: string }
}

export interface ListenerReport {
  name: 'plain' | 'tls'
  /** host:port actually bound, when it is listening. */
  address?: string
  /** Why it is not listening, in words an operator can act on. */
  problem?: string
}

export interface EmbeddedBroker {
  /** URL the console's own host connection uses (always loopback). */
  readonly url: string | null
  readonly listeners: ListenerReport[]
  readonly clients: () => number
  /**
   * Hands every message on `filter` to `deliver` inside the process, as aedes routes it: the console's
   * own host reads the fleet this way instead of through a loopback MQTT session, which would encode,
   * send, and parse every message a second time.
   */
  tap(filter: string, deliver: (topic: string, payload: Buffer) => void): Promise<void>
  close(): Promise<void>
}

/**
 * Starts aedes with its listeners. A listener that cannot start (port taken, certificate missing) is
 * reported, never thrown: the console keeps running with the broker marked down or degraded.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const aedes = await Aedes.createBroker({
    id: 'esp-fleet-console',
    // mqemitter drains its queue by recursion: under a flood (hundreds of nodes publishing at once) a
    // bounded concurrency builds a queue deep enough to overflow the stack and take the console down.
    // Unbounded, delivery is held back by each client's TCP backpressure instead.
    concurrency: 0,
  })
  const servers: Server[] = []
  const listeners: ListenerReport[] = []

  const host = options.lan ? '0.0.0.0' : '127.0.0.1'
  const plain = createServer(aedes.handle)
  const plainReport = await listen(plain, options.port, host, 'plain')
  listeners.push(plainReport)
  if (plainReport.address) servers.push(plain)

  if (options.tls && options.tls.port > 0) {
    const report = await startTls(aedes, options.tls, host)
    listeners.push(report.report)
    if (report.server) servers.push(report.server)
  }

  const plainPort = plainReport.address ? Number(plainReport.address.split(':').pop()) : null
  return {
    url: plainPort ? `mqtt://127.0.0.1:${plainPort}` : null,
    listeners,
    clients: () => aedes.connectedClients,
    tap(filter, deliver) {
      return new Promise((resolve) =>
        aedes.subscribe(
          filter,
          (packet, done) => {
            deliver(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload)
            done()
          },
          resolve,
        ),
      )
    },
    async close() {
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
    },
  }
}

async function startTls(aedes: Aedes, tls: NonNullable<EmbeddedBrokerOptions['tls']>, host: string): Promise<{ report: ListenerReport; server?: Server }> {
  const missing = (['certFile', 'keyFile', 'caFile'] as const).filter((key) => tls[key] === '')
  if (missing.length > 0) {
    return { report: { name: 'tls', problem: `TLS port ${tls.port} needs a server certificate, its key and the CA of the device certificates: set them in Settings.` } }
  }
  let material: [Buffer, Buffer, Buffer]
  try {
    material = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile), readFile(tls.caFile)])
  } catch (error) {
    return { report: { name: 'tls', problem: `Cannot read a TLS file (${(error as NodeJS.ErrnoException).path ?? 'unknown'}): ${(error as Error).message}` } }
  }
  let server: Server
  try {
    // Devices prove who they are with certificates from the site's CA; nothing else gets in.
    server = createTlsServer({ cert: material[0], key: material[1], ca: material[2], requestCert: true, rejectUnauthorized: true }, aedes.handle)
  } catch (error) {
    return { report: { name: 'tls', problem: `The TLS certificate or key is not usable: ${(error as Error).message}` } }
  }
  const report = await listen(server, tls.port, host, 'tls')
  return report.address ? { report, server } : { report }
}

function listen(server: Server, port: number, host: string, name: ListenerReport['name']): Promise<ListenerReport> {
  return new Promise((resolve) => {
    const onError = (error: NodeJS.ErrnoException) => {
      resolve({ name, problem: describeListenError(error, port, host) })
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const address = server.address()
      resolve({ name, address: typeof address === 'object' && address ? `${host}:${address.port}` : `${host}:${port}` })
    })
  })
}

function describeListenError(error: NodeJS.ErrnoException, port: number, host: string): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `Port ${port} on ${host} is taken by another program (another MQTT broker?). Stop it, or choose another MQTT port in Settings.`
    case 'EACCES':
      return `Port ${port} on ${host} needs privileges this console does not have. Choose a port above 1023 in Settings.`
    case 'EADDRNOTAVAIL':
      return `This computer has no address ${host}.`
    default:
      return `Cannot listen on ${host}:${port}: ${error.message}`
  }
}
