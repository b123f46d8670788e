export interface Logger {
  info(message: string): void
  warn(message: string): void
  error(message: string, error?: unknown): void
}

/** Lines on stderr, so stdout stays free for what a host prints for people and scripts (its URL). */
export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`${stamp()} info  ${message}\n`),
  warn: (message) => process.stderr.write(`${stamp()} warn  ${message}\n`),
  error: (message, error) =>
    process.stderr.write(`${stamp()} error ${message}${error instanceof Error ? `: ${error.stack ?? error.message}` : ''}\n`),
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} }

function stamp(): string {
  return new Date().toISOString()
}
