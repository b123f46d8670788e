import type { MethodName } from '../../../shared/contract'
import { BridgeError, type Bridge } from '../../../renderer/src/bridge'

type Handler = (params: unknown) => unknown

/** A bridge whose methods answer from `handlers`; a missing one answers as an older host would. */
export function fakeBridge(handlers: Partial<Record<MethodName, Handler>>) {
  const calls: { method: MethodName; params: unknown }[] = []
  const bridge = {
    kind: 'websocket',
    connection: 'open',
    call: async (method: MethodName, params?: unknown) => {
      calls.push({ method, params })
      const handler = handlers[method]
      if (!handler) throw new BridgeError({ code: 'UNKNOWN_METHOD', message: `There is no method "${method}".` })
      return handler(params)
    },
    on: () => () => {},
    onConnection: () => () => {},
  } as unknown as Bridge
  return { bridge, calls }
}
