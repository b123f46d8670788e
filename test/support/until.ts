/** Polls `probe` until it returns something truthy, or fails saying what it waited for. */
export async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, describe?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${describe ? `; ${describe()}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
