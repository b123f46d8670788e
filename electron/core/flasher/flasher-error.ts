/** Why a flash job stopped, as a code for programs and a sentence that says what to do. */
export type FlasherErrorCode =
  | 'port-busy'
  | 'port-missing'
  | 'port-denied'
  | 'port-error'
  | 'port-closed'
  | 'unplugged'
  | 'timeout'
  | 'no-sync'
  | 'unsupported-chip'
  | 'wrong-chip'
  | 'flash-encrypted'
  | 'bad-image'
  | 'does-not-fit'
  | 'loader-error'
  | 'verify-failed'
  | 'cancelled'

export class FlasherError extends Error {
  constructor(
    readonly code: FlasherErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'FlasherError'
  }
}
