import type { EventName, HostFrame, MethodName, Outcome } from '../../../shared/contract'
import { BridgeError, callTimeoutMs, type Bridge, type ConnectionState } from './bridge'

interface Pending {
  resolve(value: unknown): void
  reject(error: BridgeError): void
  timer: ReturnType<typeof setTimeout>
}

/**
 * The contract over the headless host's WebSocket. Calls made while disconnected wait for the
 * connection (up to the call timeout); after the host restarts, the bridge reconnects with backoff
 * and tells its listeners, so screens reload what they show.
 */
export function createWebSocketBridge(url: string, options: { sessionProbe?: () => Promise<boolean> } = {}): Bridge {
  let socket: WebSocket | null = null
  let connection: ConnectionState = 'connecting'
  let nextId = 1
  let attempt = 0
  const pending = new Map<number, Pending>()
  const waiting: (() => void)[] = []
  const eventListeners = new Map<EventName, Set<(payload: unknown) => void>>()
  const connectionListeners = new Set<(state: ConnectionState) => void>()

  const setConnection = (state: ConnectionState) => {
    if (state === connection) return
    connection = state
    for (const listener of connectionListeners) listener(state)
  }

  const connect = () => {
    const ws = new WebSocket(url)
    socket = ws
    let opened = false
    ws.onopen = () => {
      opened = true
      attempt = 0
      setConnection('open')
      for (const send of waiting.splice(0)) send()
    }
    ws.onmessage = (message) => receive(String(message.data))
    ws.onclose = () => {
      socket = null
      for (const [id, call] of pending) {
        clearTimeout(call.timer)
        call.reject(new BridgeError({ code: 'DISCONNECTED', message: 'The console host went away before answering. Reconnecting…' }))
        pending.delete(id)
      }
      void retry(opened)
    }
  }

  const retry = async (wasOpen: boolean) => {
    // A refused upgrade looks like any other failure to a browser; ask plainly whether we are signed out.
    if (!wasOpen && options.sessionProbe && !(await options.sessionProbe().catch(() => true))) {
      setConnection('signed-out')
      return
    }
    setConnection('reconnecting')
    const delay = Math.min(5000, 250 * 2 ** attempt) * (0.75 + Math.random() * 0.5)
    attempt++
    setTimeout(connect, delay)
  }

  const receive = (text: string) => {
    let frame: HostFrame
    try {
      frame = JSON.parse(text) as HostFrame
    } catch {
      return
    }
    if ('event' in frame) {
      for (const listener of eventListeners.get(frame.event) ?? []) listener(frame.payload)
      return
    }
    if (typeof frame.id !== 'number') return
    const call = pending.get(frame.id)
    if (!call) return
    pending.delete(frame.id)
    clearTimeout(call.timer)
    if (frame.ok) call.resolve(frame.value)
    else call.reject(new BridgeError(frame.error))
  }

  connect()

  return {
    kind: 'websocket',
    get connection() {
      return connection
    },
    call(method: MethodName, params?: unknown) {
      return new Promise((resolve, reject) => {
        const id = nextId++
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new BridgeError({ code: 'TIMEOUT', message: `${method} got no answer within ${callTimeoutMs / 1000} s. Check the status bar; the host may be down.` }))
        }, callTimeoutMs)
        const send = () => {
          if (!pending.has(id)) return
          socket!.send(JSON.stringify({ id, method, params: params ?? {} }))
        }
        pending.set(id, { resolve, reject, timer })
        if (socket?.readyState === WebSocket.OPEN) send()
        else waiting.push(send)
      }) as never
    },
    on(event, listener) {
      const set = eventListeners.get(event) ?? new Set()
      eventListeners.set(event, set)
      set.add(listener as (payload: unknown) => void)
      return () => set.delete(listener as (payload: unknown) => void)
    },
    onConnection(listener) {
      connectionListeners.add(listener)
      return () => connectionListeners.delete(listener)
    },
  }
}

export type { Outcome }
