import type { Bridge } from './bridge'
import { createIpcBridge, type PreloadApi } from './ipc-bridge'
import { createWebSocketBridge } from './websocket-bridge'

export type { Bridge, ConnectionState } from './bridge'
export { BridgeError } from './bridge'

/** Electron's preload exposes `consoleHost`; anywhere else the page came from the headless host. */
export function connectBridge(): Bridge {
  const preload = (window as unknown as { consoleHost?: PreloadApi }).consoleHost
  if (preload) return createIpcBridge(preload)
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws'
  return createWebSocketBridge(`${scheme}://${location.host}/ws`, {
    sessionProbe: async () => (await fetch('/api/session.whoami', { credentials: 'same-origin' })).status !== 401,
  })
}
