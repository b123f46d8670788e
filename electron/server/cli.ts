import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { product, stderrLogger } from '../core'
import { defaultDataDir } from '../core/data-dir'
import { HostConfigError, startHeadlessHost, type HostOptions } from './host'

const usage = `Usage: npm run serve -- [--listen HOST] [--port N] [--data-dir DIR] [--cert FILE --key FILE]
                          [--password-file FILE] [--token-file FILE] [--mqtt-port N] [--ota-port N] [--serial-port PATH]...

  --listen HOST        address to bind (default 127.0.0.1). Any other address requires a password or token.
  --port N             port (default 7380; 0 picks a free one)
  --data-dir DIR       where the database lives (default: the desktop console's folder)
  --cert/--key FILE    serve HTTPS with this PEM certificate and key
  --password-file FILE a file holding the sign-in password (or set CONSOLE_PASSWORD)
  --token-file FILE    a file holding an API token for scripts (or set CONSOLE_TOKEN)
  --mqtt-port N        embedded MQTT broker port for this run (default: the setting, 1883; 0 picks a free one)
  --ota-port N         port devices download update images from (default 0: a free one; every link names it)
  --serial-port PATH   also offer this serial port on the Bench (a pseudo-terminal, an RS-485 adapter); repeatable`

function parseOptions(argv: string[]): HostOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '7380' },
      'data-dir': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'password-file': { type: 'string' },
      'token-file': { type: 'string' },
      'mqtt-port': { type: 'string' },
      'ota-port': { type: 'string' },
      'serial-port': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    process.exit(0)
  }
  const port = parsePort(values.port, '--port')
  const mqttPort = values['mqtt-port'] === undefined ? undefined : parsePort(values['mqtt-port'], '--mqtt-port')
  const otaPort = values['ota-port'] === undefined ? undefined : parsePort(values['ota-port'], '--ota-port')
  if (Boolean(values.cert) !== Boolean(values.key)) throw new HostConfigError('--cert and --key go together: give both, or neither.')
  const password = values['password-file'] ? readSecret(values['password-file'], '--password-file') : process.env.CONSOLE_PASSWORD
  const token = values['token-file'] ? readSecret(values['token-file'], '--token-file') : process.env.CONSOLE_TOKEN
  return {
    listen: values.listen,
    port,
    ...(mqttPort !== undefined ? { mqttPort } : {}),
    ...(otaPort !== undefined ? { otaPort } : {}),
    serialPorts: (values['serial-port'] ?? []).map((path) => resolve(path)),
    dataDir: resolve(values['data-dir'] ?? defaultDataDir(product.name)),
    rendererDir: resolve(dirname(fileURLToPath(import.meta.url)), '../renderer'),
    // Built next to this file, as out/main/site-worker.js.
    siteWorker: new URL('./site-worker.js', import.meta.url),
    secrets: { ...(password ? { password } : {}), ...(token ? { token } : {}) },
    ...(values.cert && values.key ? { tls: { cert: readPem(values.cert, '--cert'), key: readPem(values.key, '--key') } } : {}),
  }
}

function parsePort(text: string, flag: string): number {
  const port = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new HostConfigError(`${flag} must be a whole number from 0 to 65535, not "${text}".`)
  return port
}

function readSecret(file: string, flag: string): string {
  const secret = readText(file, flag).trim()
  if (secret.length < 8) throw new HostConfigError(`${flag} ${file} holds fewer than 8 characters: use a longer secret.`)
  return secret
}

function readPem(file: string, flag: string): Buffer {
  const text = readText(file, flag)
  if (!text.includes('-----BEGIN')) throw new HostConfigError(`${flag} ${file} is not a PEM file.`)
  return Buffer.from(text)
}

function readText(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new HostConfigError(`${flag} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`)
  }
}

async function main(): Promise<void> {
  let options: HostOptions
  try {
    options = parseOptions(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${usage}\n`)
    process.exit(2)
  }
  try {
    const host = await startHeadlessHost({ ...options, log: stderrLogger })
    process.stdout.write(`${product.name} ${product.version}: headless console at ${host.url} (data in ${options.dataDir})\n`)
    const stop = (signal: string) => {
      stderrLogger.info(`${signal}: shutting down, draining writes`)
      host.close().then(
        () => process.exit(0),
        (error: unknown) => {
          stderrLogger.error('Shutdown failed', error)
          process.exit(1)
        },
      )
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  } catch (error) {
    if (error instanceof HostConfigError) {
      process.stderr.write(`${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
}

void main()
