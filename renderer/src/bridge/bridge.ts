import type { ContractError, ErrorCode, EventName, EventPayloads, MethodName, ParamsIn, ResultOf } from '../../../shared/contract'

/** `signed-out`: the headless host wants a login (the session expired or was revoked). */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'signed-out'

/** How screens reach the core, whichever host they run under. */
export interface Bridge {
  readonly kind: 'electron' | 'websocket'
  call<M extends MethodName>(method: M, ...params: {} extends ParamsIn<M> ? [ParamsIn<M>?] : [ParamsIn<M>]): Promise<ResultOf<M>>
  on<E extends EventName>(event: E, listener: (payload: EventPayloads[E]) => void): () => void
  readonly connection: ConnectionState
  onConnection(listener: (state: ConnectionState) => void): () => void
}

export class BridgeError extends Error {
  readonly code: ErrorCode
  readonly issues: ContractError['issues']

  constructor(error: ContractError) {
    super(error.message)
    this.name = 'BridgeError'
    this.code = error.code
    this.issues = error.issues
  }
}

/** Every call gives up after this long, so a screen never waits forever on a host that went away. */
export const callTimeoutMs = 15_000
