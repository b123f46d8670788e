import type { ServiceState, Settings } from '../../../shared/contract'
import { hostStateTopic } from '../../../shared/domain/sparkplug/topic'
import type { Logger } from '../log'
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker'
import { openHostLink, type HostLink, type HostLinkStatus } from './host-link'

/** The settings that, when changed, mean a new broker or a new host session. */
const brokerKeys = [
  'mqttMode',
  'mqttPort',
  'mqttLan',
  'mqttTlsPort',
  'mqttTlsCertFile',
  'mqttTlsKeyFile',
  'mqttTlsCaFile',
  'mqttUrl',
  'mqttUsername',
  'mqttPassword',
  'mqttClientCertFile',
  'mqttClientKeyFile',
  'mqttCaFile',
  'sparkplugHostId',
] as const satisfies readonly (keyof Settings)[]

export const brokerSettingsChanged = (next: Settings, previous: Settings) => brokerKeys.some((key) => next[key] !== previous[key])

export interface BrokerServiceOptions {
  log: Logger
  report(state: ServiceState): void
  message(topic: string, payload: Buffer): void
  /** Overrides the mqttPort setting for this run (the headless host's --mqtt-port; 0 in tests). */
  portOverride?: number
  now?: () => number
}

/**
 * Runs the embedded broker (or points at the site's) and the console's Sparkplug host session on it.
 * Every failure is reported as the broker service's state; none is thrown to the caller.
 */
export class BrokerService {
  private embedded: EmbeddedBroker | null = null
  private link: HostLink | null = null
  /** Serialises start and stop so quick settings changes never leave two brokers behind. */
  private chain: Promise<void> = Promise.resolve()

  constructor(private readonly options: BrokerServiceOptions) {}

  /** Where the console's broker is, for the demo fleet and for tools (null when none is up). */
  get url(): string | null {
    return this.currentUrl
  }
  private currentUrl: string | null = null

  start(settings: Settings): Promise<void> {
    this.chain = this.chain.then(() => this.stopNow()).then(() => this.startNow(settings))
    return this.chain
  }

  stop(): Promise<void> {
    this.chain = this.chain.then(() => this.stopNow())
    return this.chain
  }

  publish(topic: string, payload: Uint8Array, qos: 0 | 1 = 0): Promise<void> {
    if (!this.link) return Promise.reject(new Error('The console has no broker connection.'))
    return this.link.publish(topic, payload, qos)
  }

  private async startNow(settings: Settings): Promise<void> {
    const { report, log } = this.options
    let url: string
    let listenerProblem: string | undefined
    let listening = ''
    if (settings.mqttMode === 'embedded') {
      const port = this.options.portOverride ?? settings.mqttPort
      report({ state: 'degraded', detail: `Starting the embedded broker on port ${port}…` })
      this.embedded = await startEmbeddedBroker({
        port,
        lan: settings.mqttLan,
        ...(settings.mqttTlsPort > 0
          ? { tls: { port: settings.mqttTlsPort, certFile: settings.mqttTlsCertFile, keyFile: settings.mqttTlsKeyFile, caFile: settings.mqttTlsCaFile } }
          : {}),
      })
      const plain = this.embedded.listeners.find((listener) => listener.name === 'plain')
      if (!this.embedded.url || !plain?.address) {
        const problem = plain?.problem ?? 'The embedded broker did not start.'
        log.warn(`Broker: ${problem}`)
        report({ state: 'down', detail: problem })
        await this.embedded.close()
        this.embedded = null
        return
      }
      url = this.embedded.url
      // The host link answers its own STATE topic; everything else in the namespace is the fleet.
      const ownState = hostStateTopic(settings.sparkplugHostId)
      const embedded = this.embedded
      await embedded.tap('spBv1.0/#', (topic, payload) => {
        if (topic !== ownState && this.embedded === embedded) this.options.message(topic, payload)
      })
      listening = this.embedded.listeners
        .filter((listener) => listener.address)
        .map((listener) => `${listener.name === 'tls' ? 'TLS ' : ''}${listener.address}`)
        .join(', ')
      listenerProblem = this.embedded.listeners.find((listener) => listener.problem)?.problem
      if (listenerProblem) log.warn(`Broker: ${listenerProblem}`)
    } else {
      if (settings.mqttUrl === '') {
        report({ state: 'down', detail: 'External broker chosen but no URL set: enter it in Settings (for example mqtt://broker.plant.local:1883).' })
        return
      }
      url = settings.mqttUrl
    }

    this.currentUrl = url
    const describe = (status: HostLinkStatus): ServiceState => {
      if (status.state === 'connecting') return { state: 'degraded', detail: status.detail }
      if (status.state === 'down') return { state: 'down', detail: status.detail }
      const where = listening ? `Embedded broker on ${listening}. ` : ''
      return listenerProblem ? { state: 'degraded', detail: `${where}${listenerProblem}` } : { state: 'up', detail: `${where}${status.detail}` }
    }
    try {
      this.link = openHostLink(
        {
          url,
          hostId: settings.sparkplugHostId,
          fleetVia: settings.mqttMode === 'embedded' ? 'in-process' : 'session',
          ...(settings.mqttMode === 'external'
            ? {
                username: settings.mqttUsername,
                password: settings.mqttPassword,
                clientCertFile: settings.mqttClientCertFile,
                clientKeyFile: settings.mqttClientKeyFile,
                caFile: settings.mqttCaFile,
              }
            : {}),
          ...(this.options.now ? { now: this.options.now } : {}),
        },
        { message: this.options.message, status: (status) => report(describe(status)) },
      )
    } catch (error) {
      // Unreadable certificate files are the usual cause: say which.
      report({ state: 'down', detail: `Cannot connect to ${url}: ${(error as Error).message}` })
    }
  }

  private async stopNow(): Promise<void> {
    const link = this.link
    const embedded = this.embedded
    this.link = null
    this.embedded = null
    this.currentUrl = null
    if (link) await link.close().catch((error: Error) => this.options.log.warn(`Broker: closing the host session: ${error.message}`))
    if (embedded) await embedded.close()
  }
}
