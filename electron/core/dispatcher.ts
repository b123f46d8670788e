import {
  failure,
  isMethodName,
  methodNames,
  methods,
  type MethodName,
  type Outcome,
  type ParamsOut,
  type ResultOf,
} from '../../shared/contract'
import { ContractFailure } from './failure'
import type { Logger } from './log'

/** Who is calling, established by the transport before the call reaches the dispatcher. */
export interface CallContext {
  actor: string
  via: 'ipc' | 'local' | 'session' | 'token'
  sessionExpiresAt?: number
}

export type Handlers = {
  [M in MethodName]: (params: ParamsOut<M>, context: CallContext) => ResultOf<M> | Promise<ResultOf<M>>
}

export type Dispatch = (method: unknown, params: unknown, context: CallContext) => Promise<Outcome<unknown>>

/**
 * The one gate every call passes, whatever its transport: the method must exist, its params must
 * match the contract's schema, and whatever the handler throws becomes a typed error, never a crash.
 */
export function createDispatcher(handlers: Handlers, log: Logger): Dispatch {
  return async (method, params, context) => {
    if (!isMethodName(method)) {
      return failure('UNKNOWN_METHOD', `There is no method ${JSON.stringify(method)}. Known methods: ${methodNames.join(', ')}.`)
    }
    const parsed = methods[method].params.safeParse(params ?? {})
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }))
      const first = issues[0]
      const labels: Readonly<Record<string, string>> | undefined = (methods[method] as { labels?: Readonly<Record<string, string>> }).labels
      const field = first ? (labels?.[first.path] ?? (first.path || 'params')) : ''
      return failure('INVALID_PARAMS', `Invalid parameters for ${method}: ${first ? `${field}: ${first.message.replace(/\.$/, '')}` : 'see issues'}.`, issues)
    }
    try {
      const handler = handlers[method] as (params: unknown, context: CallContext) => unknown
      return { ok: true, value: await handler(parsed.data, context) }
    } catch (error) {
      if (error instanceof ContractFailure) return failure(error.code, error.message)
      log.error(`${method} failed`, error)
      return failure('INTERNAL', `${method} failed inside the console: ${error instanceof Error ? error.message : String(error)}. The console log has details.`)
    }
  }
}
