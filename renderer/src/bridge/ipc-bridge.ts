import type { EventName, MethodName, Outcome } from '../../../shared/contract'
import { BridgeError, callTimeoutMs, type Bridge } from './bridge'

/** What electron/preload exposes: one function per method, and `on` returning an unsubscribe. */
export interface PreloadApi {
  call: Record<MethodName, (params: unknown) => Promise<Outcome<unknown>>>
  on(event: EventName, listener: (payload: unknown) => void): () => void
}

export function createIpcBridge(api: PreloadApi): Bridge {
  return {
    kind: 'electron',
    connection: 'open',
    async call(method: MethodName, params?: unknown) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new BridgeError({ code: 'TIMEOUT', message: `${method} got no answer within ${callTimeoutMs / 1000} s.` })), callTimeoutMs)
      })
      try {
        const outcome = await Promise.race([api.call[method](params ?? {}), timeout])
        if (!outcome.ok) throw new BridgeError(outcome.error)
        return outcome.value as never
      } finally {
        clearTimeout(timer)
      }
    },
    on(event, listener) {
      return api.on(event, listener as (payload: unknown) => void)
    },
    // The desktop core lives in the same app: the connection cannot drop.
    onConnection: () => () => {},
  }
}
