import type { Bridge } from '../bridge'
import { sectionFromHash } from '../shell/sections'
import type { ConsoleStore } from './store'

/**
 * Keeps the store in step with the core: loads what screens show whenever the connection opens
 * (first start, or after the headless host came back) and applies pushed events in between.
 */
export function syncWithCore(bridge: Bridge, store: ConsoleStore): () => void {
  const state = store.getState
  const reload = () => {
    // loadBench, loadSite, loadPlan and loadUpdates keep their own errors for their screens (a host without them must not hide the rest).
    void Promise.all([state().loadHealth(), state().loadSettings(), state().loadAudit(), state().loadBench(), state().loadSite(), state().loadPlan(), state().loadUpdates()]).catch(() => {
      // The status bar shows the connection; the next reconnect reloads.
    })
  }
  const stops = [
    bridge.onConnection((connection) => {
      state().setConnection(connection)
      if (connection === 'open') {
        // The host sends the whole fleet first on every connection; rows it no longer has must go.
        state().expectFleetSnapshot()
        // Likewise the bench's ports and jobs: a port unplugged while we were away must not linger.
        state().expectPortsSnapshot()
        state().expectBenchJobsSnapshot()
        // And every rollout: one that aged out of the core's history must not stay listed.
        state().expectRolloutsSnapshot()
        reload()
      }
    }),
    bridge.on('services', (diff) => state().applyServices(diff)),
    bridge.on('settings.changed', (settings) => state().receiveSettings(settings)),
    bridge.on('audit.appended', (entry) => state().receiveAudit(entry)),
    bridge.on('fleet', (diff) => state().receiveFleet(diff)),
    bridge.on('ports', (diff) => state().receivePorts(diff)),
    bridge.on('bench.jobs', (diff) => state().receiveBenchJobs(diff)),
    bridge.on('ota.rollouts', (diff) => state().receiveRollouts(diff)),
    bridge.on('site.changed', (change) => state().receiveSiteChange(change)),
  ]
  if (bridge.connection === 'open') reload()
  const onHash = () => state().showSection(sectionFromHash(location.hash))
  window.addEventListener('popstate', onHash)
  return () => {
    for (const stop of stops) stop()
    window.removeEventListener('popstate', onHash)
  }
}
