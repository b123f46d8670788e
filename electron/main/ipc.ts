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
  // Each page load subscribes afresh, so the page (first load or a reload) receives the snapshot of
  // every stream once its listeners exist; one sent before the page has loaded would be lost.
  let unsubscribe = () => {}
  const subscribe = () => {
    unsubscribe()
    unsubscribe = core.events.subscribe((event, payload) => {
      if (!window.isDestroyed()) window.webContents.send(`event:${event}`, payload)
    })
  }
  window.webContents.on('did-finish-load', subscribe)
  return () => {
    window.webContents.off('did-finish-load', subscribe)
    unsubscribe()
    for (const method of methodNames) ipcMain.removeHandler(`rpc:${method}`)
  }
}
