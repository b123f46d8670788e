// Every failure that crosses the contract carries one of these codes, so a screen or a script can
// decide what to do without parsing prose; `message` is for the person and says what to do next.
export const errorCodes = [
  'BAD_FRAME', // not JSON, or not a request envelope
  'UNKNOWN_METHOD',
  'INVALID_PARAMS',
  'TOO_LARGE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'UNAVAILABLE', // a service the method needs is down (e.g. the store could not be opened)
  'NOT_FOUND',
  'CONFLICT',
  'TIMEOUT',
  'DISCONNECTED', // client side: the host went away before answering
  'INTERNAL',
] as const

export type ErrorCode = (typeof errorCodes)[number]

export interface ContractError {
  code: ErrorCode
  message: string
  /** Field-level problems for INVALID_PARAMS: `path` is dotted, e.g. `limit` or `broker.port`. */
  issues?: { path: string; message: string }[]
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ContractError }

export function failure(code: ErrorCode, message: string, issues?: ContractError['issues']): { ok: false; error: ContractError } {
  return { ok: false, error: issues ? { code, message, issues } : { code, message } }
}
