import { publicSettings, type CatalogueView, type Health, type ServiceName, type ServiceState, type SitePlanView } from '../../shared/contract'
import { AuditLog } from './audit-log'
import type { BindingInterface } from '@serialport/bindings-interface'
import { BenchService } from './bench/bench-service'
import { BrokerService, brokerSettingsChanged } from './broker/broker-service'
import { DemoFleet } from './fleet/demo-fleet'
import { FleetService } from './fleet/fleet-service'
import { createDispatcher, type Dispatch } from './dispatcher'
import { ContractFailure } from './failure'
import { EventHub } from './event-hub'
import { stderrLogger, type Logger } from './log'
import { product } from './product'
import { SessionStore } from './sessions'
import { SettingsService } from './settings-service'
import { ArtifactStore } from './ota/artifact-store'
import { lanAddress } from './ota/lan-address'
import { OtaService } from './ota/ota-service'
import { SitePlanService } from './site/site-plan-service'
import { SiteService } from './site/site-service'
import { SiteWorkerClient } from './site/site-worker-client'
import { openStore } from './store/store'

export type { CallContext, Dispatch } from './dispatcher'
export type { EventListener } from './event-hub'
export type { Logger } from './log'
export type { Session } from './sessions'
export { stderrLogger, silentLogger } from './log'
export { product } from './product'

export interface CoreConfig {
  /** Where the database and everything else the console keeps lives. */
  dataDir: string
  host: Health['host']
  log?: Logger
  /** better-sqlite3 addon for this runtime, when it is not the one npm built (Electron). */
  nativeBinding?: string
  /** Embedded broker port for this run, over the setting (--mqtt-port; 0 picks a free one). */
  mqttPort?: number
  /** OTA file server port (--ota-port); 0, the default, picks a free one, since every download link names it. */
  otaPort?: number
  /** Serial ports to offer besides USB ones (--serial-port): pseudo-terminals, RS-485 adapters. */
  serialPorts?: readonly string[]
  /** Another serialport binding for the bench (emulated boards in tests). */
  serialBinding?: BindingInterface
  /**
   * The built site worker (out/main/site-worker.js), which computes coverage and placement and reads site
   * files off the core's thread. Absent when the core runs from TypeScript: the worker then runs its source.
   */
  siteWorker?: URL
  now?: () => number
}

export interface Core {
  readonly dispatch: Dispatch
  readonly events: Pick<EventHub, 'subscribe'>
  readonly sessions: SessionStore
  readonly settings: SettingsService
  readonly broker: BrokerService
  readonly fleet: FleetService
  /** Null when the store is down: the bench keeps its log there. */
  readonly bench: BenchService | null
  /** Null when the store is down: rollouts are kept there. */
  readonly ota: OtaService | null
  health(): Health
  setService(name: ServiceName, state: ServiceState): void
  /** Stops services in the reverse order of their start, draining pending writes. */
  dispose(): Promise<void>
}

/** The composition root: both hosts build the console through this one function. */
export function createCore(config: CoreConfig): Core {
  const log = config.log ?? stderrLogger
  const now = config.now ?? Date.now
  const startedAt = now()

  const store = openStore({ dataDir: config.dataDir, log, now, ...(config.nativeBinding ? { nativeBinding: config.nativeBinding } : {}) })
  if (store.state.state !== 'up') log.warn(`Store ${store.state.state}: ${store.state.detail}`)
  const events = new EventHub(4)
  const audit = new AuditLog(store.open, events, now)
  const settings = new SettingsService(store.open, audit, events, log)
  events.setRate(settings.get().pushRateHz)
  const sessions = new SessionStore(store.open, now)
  sessions.purgeExpired()

  const services: Record<ServiceName, ServiceState> = {
    host: { state: 'up', detail: config.host.kind === 'electron' ? 'Desktop console' : `Headless host${config.host.url ? ` at ${config.host.url}` : ''}` },
    store: store.state,
    broker: { state: 'off', detail: 'Starting…' },
  }
  const setService = (name: ServiceName, state: ServiceState) => {
    services[name] = state
    events.set('services', name, state)
  }
  for (const name of Object.keys(services) as ServiceName[]) setService(name, services[name])

  const fleet = new FleetService({
    store: store.open,
    events,
    audit,
    log,
    now,
    publish: (topic, payload) => broker.publish(topic, payload),
    silentAfterMs: settings.get().silentAfterSeconds * 1000,
    observe: (effects) => ota?.observe(effects),
  })
  const demo = new DemoFleet(log)
  const bench = store.open
    ? new BenchService({
        store: store.open,
        dataDir: config.dataDir,
        events,
        audit,
        log,
        now,
        extraPorts: config.serialPorts ?? [],
        group: () => settings.get().benchGroup,
        flashed: (group, serial, firmware) => fleet.expect(group, serial, firmware, now()),
        ...(config.serialBinding ? { binding: config.serialBinding } : {}),
      })
    : null
  const siteWorker = new SiteWorkerClient({ log, ...(config.siteWorker ? { entry: config.siteWorker } : {}) })
  const site = store.open ? new SiteService(store.open, now, siteWorker) : null
  const needSite = (): SiteService => {
    if (!site) throw new ContractFailure('UNAVAILABLE', 'The store is down, so the site cannot be kept: see the status bar.')
    return site
  }
  const sitePlan = site ? new SitePlanService({ store: store.open!, imports: site, now, worker: siteWorker }) : null
  const needSitePlan = (): SitePlanService => {
    if (!sitePlan) throw new ContractFailure('UNAVAILABLE', 'The store is down, so the site plan cannot be kept: see the status bar.')
    return sitePlan
  }
  // Other screens showing the plan reload when someone else changed it (after the change and its audit entry are kept).
  const siteChanged = (plan: SitePlanView, operator: string): SitePlanView => {
    events.emit('site.changed', { revision: plan.revision, what: 'plan', operator, label: plan.label })
    return plan
  }
  const catalogueChanged = (catalogue: CatalogueView, operator: string, label: string): CatalogueView => {
    events.emit('site.changed', { revision: sitePlan?.latestRevision() ?? 0, what: 'catalogue', operator, label })
    return catalogue
  }
  const artifacts = store.open ? new ArtifactStore(store.open, config.dataDir, now) : null
  const needArtifacts = (): ArtifactStore => {
    if (!artifacts) throw new ContractFailure('UNAVAILABLE', 'The store is down, so no firmware can be kept for updates: see the status bar.')
    return artifacts
  }
  // Devices fetch images from where they reach the broker: loopback, or this computer on the plant network.
  const lan = settings.get().mqttLan
  const ota = artifacts
    ? new OtaService({
        store: store.open!,
        artifacts,
        events,
        audit,
        log,
        now,
        publish: (topic, payload) => broker.publish(topic, payload),
        fleet,
        delivery: { bindHost: lan ? '0.0.0.0' : '127.0.0.1', advertisedHost: () => (lan ? lanAddress() : '127.0.0.1'), ...(config.otaPort !== undefined ? { port: config.otaPort } : {}) },
      })
    : null
  const needOta = (): OtaService => {
    if (!ota) throw new ContractFailure('UNAVAILABLE', 'The store is down, so no rollout can be kept: see the status bar.')
    return ota
  }
  const needBench = (): BenchService => {
    if (!bench) throw new ContractFailure('UNAVAILABLE', 'The store is down, so the bench cannot keep its job log: see the status bar.')
    return bench
  }
  const broker = new BrokerService({
    log,
    now,
    report: (state) => {
      setService('broker', state)
      // The demo fleet follows the broker: it starts once there is one, and moves when it moves.
      if (state.state === 'up' || state.state === 'down') void demo.follow(settings.get(), state.state === 'up' ? broker.url : null)
    },
    message: (topic, payload) => fleet.receive(topic, payload),
    ...(config.mqttPort !== undefined ? { portOverride: config.mqttPort } : {}),
  })
  void broker.start(settings.get())
  const stopFollowingSettings = settings.onChange((next, previous) => {
    fleet.silentAfterMs = next.silentAfterSeconds * 1000
    if (brokerSettingsChanged(next, previous)) void broker.start(next)
    else void demo.follow(next, broker.url)
  })

  const health = (): Health => ({
    product: product.name,
    version: product.version,
    host: config.host,
    startedAt,
    services: { ...services },
  })

  const dispatch = createDispatcher(
    {
      'system.health': () => health(),
      'session.whoami': (_params, context) => ({
        actor: context.actor,
        via: context.via,
        ...(context.sessionExpiresAt ? { sessionExpiresAt: context.sessionExpiresAt } : {}),
      }),
      'settings.get': () => publicSettings(settings.get()),
      'settings.update': (patch, context) => {
        const next = settings.update(patch, context.actor)
        events.setRate(next.pushRateHz)
        return publicSettings(next)
      },
      'audit.list': ({ limit, beforeId }) => audit.list(limit, beforeId),
      'fleet.device': ({ key }) => fleet.device(key),
      'fleet.series': ({ key, metric, from, to, maxPoints }) => fleet.series(key, metric, from, to, maxPoints),
      'fleet.rebirth': ({ key }, context) => fleet.requestRebirth(key, context.actor),
      'fleet.write': ({ key, metric, value }, context) => fleet.write(key, metric, value, context.actor),
      'demo.fault': ({ key, fault }, context) => {
        const { node, words } = demo.inject(key, fault)
        audit.perform({ actor: context.actor, action: 'demo fault', target: node, detail: words }, () => {})
        return { injected: words }
      },
      'bench.ports': async () => {
        await needBench().ports.scan()
        return needBench().ports.list()
      },
      'bench.firmware': () => needBench().firmware.list(),
      'bench.importFirmware': ({ fileName, data }, context) => {
        const bytes = new Uint8Array(Buffer.from(data, 'base64'))
        return audit.perform({ actor: context.actor, action: 'import firmware', target: fileName, detail: `${bytes.length} bytes` }, () => needBench().firmware.import(fileName, bytes))
      },
      'bench.recipes': () => needBench().firmware.recipes(),
      'bench.saveRecipe': (recipe, context) => {
        const saved = needBench().firmware.saveRecipe(recipe)
        audit.perform({ actor: context.actor, action: 'save recipe', target: saved.name, detail: saved.regions.map((region) => `${region.fileName}@0x${region.offset.toString(16)}`).join(', ') }, () => {})
        return saved
      },
      'bench.deleteRecipe': ({ name }, context) => audit.perform({ actor: context.actor, action: 'delete recipe', target: name }, () => ({ deleted: needBench().firmware.deleteRecipe(name) })),
      'bench.flash': ({ recipe, ports, firstSeq, serials }, context) => needBench().flash(recipe, ports, firstSeq, context.actor, serials),
      'bench.cancel': ({ jobId }, context) => audit.perform({ actor: context.actor, action: 'cancel flashing', target: `job ${jobId}` }, () => needBench().cancel(jobId)),
      'bench.resume': ({ batchId }, context) => needBench().resume(batchId, context.actor),
      'bench.jobs': ({ limit }) => needBench().jobs(limit),
      'bench.readBack': ({ jobId }) => needBench().readBack(jobId),
      'bench.nextSeq': ({ recipe }) => needBench().nextSeq(recipe),
      'site.import': async ({ fileName, data }, context) => {
        const bytes = new Uint8Array(Buffer.from(data, 'base64'))
        // Read off the core's thread first; the version, its plan revision and the audit entry land together or not at all.
        const file = await needSite().read(fileName, bytes)
        const { version, plan } = audit.perform({ actor: context.actor, action: 'import site', target: fileName, detail: `${bytes.length} bytes as a new site version and plan revision` }, () => {
          const kept = needSite().keep(file, context.actor)
          return { version: kept, plan: needSitePlan().addImport(kept) }
        })
        siteChanged(plan, context.actor)
        return version
      },
      'site.current': () => needSite().current(),
      'site.plan': () => needSitePlan().plan(),
      'site.savePlan': ({ baseRevision, label, model }, context) =>
        siteChanged(audit.perform({ actor: context.actor, action: 'save site plan', target: `revision ${baseRevision + 1}`, detail: label }, () => needSitePlan().savePlan(baseRevision, label, model, context.actor)), context.actor),
      'site.openPlan': ({ fileName, data }, context) => {
        const bytes = new Uint8Array(Buffer.from(data, 'base64'))
        return siteChanged(audit.perform({ actor: context.actor, action: 'open site plan', target: fileName, detail: `${bytes.length} bytes as a new plan revision` }, () => needSitePlan().openPlan(fileName, bytes, context.actor)), context.actor)
      },
      'site.catalogue': () => needSitePlan().catalogue(),
      'site.saveCatalogue': ({ parts }, context) =>
        catalogueChanged(audit.perform({ actor: context.actor, action: 'save catalogue', target: 'site catalogue', detail: Array.isArray(parts) ? `${parts.length} parts` : '' }, () => needSitePlan().saveCatalogue(parts, context.actor)), context.actor, 'save catalogue'),
      'site.resetCatalogue': (_params, context) =>
        catalogueChanged(audit.perform({ actor: context.actor, action: 'reset catalogue', target: 'site catalogue', detail: 'back to the built-in parts' }, () => needSitePlan().resetCatalogue()), context.actor, 'reset catalogue'),
      'site.coverage': ({ cellSizeM, targetHeightM }) => needSitePlan().coverage(cellSizeM, targetHeightM),
      'site.placement': (request) => needSitePlan().placement(request),
      'site.outputs': () => needSitePlan().outputs(),
      'site.export': ({ kind, cellSizeM }, context) => needSitePlan().export(kind, cellSizeM, context.actor),
      'ota.importArtifact': ({ fileName, data, minimumVersion }, context) => {
        const bytes = new Uint8Array(Buffer.from(data, 'base64'))
        return audit.perform({ actor: context.actor, action: 'import update image', target: fileName, detail: `${bytes.length} bytes` }, () => needArtifacts().import(fileName, bytes, context.actor, minimumVersion))
      },
      'ota.artifacts': () => needArtifacts().list(),
      'ota.preview': (request) => needOta().preview(request),
      'ota.start': (request, context) => needOta().start(request, context.actor),
      'ota.pause': ({ rolloutId }, context) => needOta().pause(rolloutId, context.actor),
      'ota.resume': ({ rolloutId }, context) => needOta().resume(rolloutId, context.actor),
      'ota.abort': ({ rolloutId }, context) => needOta().abort(rolloutId, context.actor),
      'ota.rollouts': () => needOta().list(),
      'ota.rollout': ({ rolloutId }) => needOta().detail(rolloutId),
    },
    log,
  )

  let disposed = false
  return {
    dispatch,
    events,
    sessions,
    settings,
    broker,
    fleet,
    bench,
    ota,
    health,
    setService,
    async dispose() {
      if (disposed) return
      disposed = true
      stopFollowingSettings()
      await demo.stop()
      await siteWorker.dispose()
      await bench?.dispose()
      await ota?.dispose()
      await broker.stop()
      fleet.dispose()
      events.dispose()
      store.close()
    },
  }
}
