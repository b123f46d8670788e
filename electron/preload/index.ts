import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { eventNames, methodNames, type EventName, type MethodName } from '../../shared/contract/channels'

// One function per contract method, each bound to its own channel: the page can call exactly the
// contract and nothing else. Listeners receive payloads only, never the IPC event.
const call = Object.fromEntries(
  methodNames.map((method: MethodName) => [method, (params: unknown) => ipcRenderer.invoke(`rpc:${method}`, params)]),
)

function on(event: EventName, listener: (payload: unknown) => void): () => void {
  if (!eventNames.includes(event)) throw new Error(`Unknown event ${String(event)}`)
  const channel = `event:${event}`
  const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload)
  ipcRenderer.on(channel, forward)
  return () => ipcRenderer.removeListener(channel, forward)
}

contextBridge.exposeInMainWorld('consoleHost', { call, on })
