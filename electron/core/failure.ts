import type { ErrorCode } from '../../shared/contract'

/** Thrown by a handler to answer with a contract error instead of INTERNAL. */
export class ContractFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'ContractFailure'
  }
}
