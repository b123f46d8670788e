/** The value of an `{ ok, value | error }` outcome a test expects to succeed. */
export function must<T>(outcome: { ok: true; value: T } | { ok: false; error: string }): T {
  if (!outcome.ok) throw new Error(`expected success, got: ${outcome.error}`)
  return outcome.value
}

/** The error of an outcome a test expects to be refused. */
export function errorOf(outcome: { ok: true } | { ok: false; error: string }): string {
  if (outcome.ok) throw new Error('expected a refusal')
  return outcome.error
}
