import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron'
import { failure, methodNames } from '../../shared/contract'
import type { CallContext, Core } from '../core'
import { isOwnPage } from './window'

/**
 * Wires every contract method to `ipcMain` through the core's validating dispatcher. A call from any
 * frame other than the console's own page is refused before its params are even read.
 */
export function wireContract(core: Core, window: BrowserWindow, context: () => CallContext): () => void {
  for (const method of methodNames) {
    ipcMain.handle(`rpc:${method}`, (event: IpcMainInvokeEvent, params: unknown) => {
      if (!event.senderFrame || !isOwnPage(event.senderFrame.url)) {
        return failure('FORBIDDEN', 'Calls are accepted only from the console window.')
      }
      return core.dispatch(method, params, context())
    })
  }
  const unsubscribe = core.events.subscribe((event, payload) => {
    if (!window.isDestroyed()) window.webContents.send(`event:${event}`, payload)
  })
  return () => {
    unsubscribe()
    for (const method of methodNames) ipcMain.removeHandler(`rpc:${method}`)
  }
}
