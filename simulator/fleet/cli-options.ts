// Flags of `npm run simulate`, parsed apart from the process so the rules can be tested and so a bad
// flag is refused before anything connects.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { OtaFaultRates, OtaOptions } from '../ota/ota-device'
import type { FaultRates } from './edge-node'
import type { VirtualFleetOptions } from './fleet'

export class UsageError extends Error {
  override name = 'UsageError'
}

export const usage = `Usage: npm run simulate -- [options]

  --broker <url>          MQTT broker (default mqtt://127.0.0.1:1883)
  --nodes <n>             virtual ESP32 edge nodes (default 10)
  --devices <n>           devices per node (default 5)
  --rate <hz>             DDATA per device per second (default 1)
  --group <id>            Sparkplug group id (default Plant1)
  --prefix <text>         edge node id prefix (default esp32-)
  --seed <n>              seed of every random choice (default 1)
  --host-id <id>          wait for this primary host's STATE online before births
  --faults <list>         random faults, e.g. "drop=0.01,gap=0.001,reorder=0.001,malformed=0.0005,skew=30000"
                            drop, reboot, crash, silence: chance per node per second
                            gap, reorder, malformed: chance per DATA message
                            skew: clock offset bound in ms; silenceMs: how long a silence lasts
  --burst                 publish DDATA as fast as the connections drain (benchmarks)
  --max-in-flight <n>     unwritten messages per node in burst mode (default 64)
  --diagnostics <s>       NDATA diagnostics period in seconds (default 10, 0 = off)
  --ota                   A/B flash and the OTA protocol on every node (OTA/Command, OTA/State…)
  --ota-faults <list>     random OTA faults, e.g. "powerCut=0.05,linkDrop=0.01,stall=0.01,bootCrash=0.1"
                            powerCut: chance at each step of an update; linkDrop, stall: chance per
                            second of a download; bootCrash: chance a new image panics on first boot
  --ota-ca <file>         PEM certificate(s) to trust for https:// image URLs
  --ota-insecure          accept any HTTPS certificate for image URLs
  --username <name>       MQTT user name
  --password <secret>     MQTT password
  --duration <s>          stop after this many seconds (default: run until Ctrl-C)
  --status <s>            status line period in seconds (default 5)
  --verbose               print every node event (connects, births, losses, faults)
  --help                  this text
`

export interface CliOptions {
  fleet: Omit<VirtualFleetOptions, 'clock' | 'onEvent'>
  durationS: number | null
  statusS: number
  verbose: boolean
  help: boolean
}

const faultKeys = ['drop', 'reboot', 'crash', 'silence', 'gap', 'reorder', 'malformed', 'skew', 'silenceMs'] as const
const probabilityKeys = new Set<string>(['drop', 'reboot', 'crash', 'silence', 'gap', 'reorder', 'malformed'])

const otaFaultKeys = ['powerCut', 'linkDrop', 'stall', 'bootCrash'] as const

export function parseOtaFaults(spec: string): OtaFaultRates {
  const rates: OtaFaultRates = {}
  for (const part of spec.split(',').map((item) => item.trim()).filter(Boolean)) {
    const match = /^([A-Za-z]+)\s*=\s*(.+)$/.exec(part)
    if (!match) throw new UsageError(`--ota-faults: "${part}" is not key=value`)
    const key = match[1] as (typeof otaFaultKeys)[number]
    if (!otaFaultKeys.includes(key)) throw new UsageError(`--ota-faults: unknown fault "${match[1]}" (known: ${otaFaultKeys.join(', ')})`)
    const value = Number(match[2])
    if (!Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`--ota-faults: ${key} is a probability between 0 and 1, not "${match[2]}"`)
    rates[key] = value
  }
  return rates
}

export function parseFaults(spec: string): FaultRates {
  const rates: FaultRates = {}
  for (const part of spec.split(',').map((item) => item.trim()).filter(Boolean)) {
    const match = /^([A-Za-z]+)\s*=\s*(.+)$/.exec(part)
    if (!match) throw new UsageError(`--faults: "${part}" is not key=value`)
    const key = match[1] as (typeof faultKeys)[number]
    if (!faultKeys.includes(key)) throw new UsageError(`--faults: unknown fault "${match[1]}" (known: ${faultKeys.join(', ')})`)
    const value = Number(match[2])
    if (!Number.isFinite(value) || value < 0) throw new UsageError(`--faults: ${key} must be a number of at least 0, not "${match[2]}"`)
    if (probabilityKeys.has(key) && value > 1) throw new UsageError(`--faults: ${key} is a probability between 0 and 1, not ${value}`)
    rates[key] = value
  }
  return rates
}

function integer(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} must be a whole number of at least ${min}, not "${text}"`)
  return value
}

function positive(flag: string, text: string | undefined, fallback: number, allowZero = false): number {
  if (text === undefined) return fallback
  const value = Number(text)
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new UsageError(`--${flag} must be a number above ${allowZero ? 'or equal to ' : ''}0, not "${text}"`)
  return value
}

export function parseFleetArgs(argv: string[]): CliOptions {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        broker: { type: 'string' },
        nodes: { type: 'string' },
        devices: { type: 'string' },
        rate: { type: 'string' },
        group: { type: 'string' },
        prefix: { type: 'string' },
        seed: { type: 'string' },
        'host-id': { type: 'string' },
        faults: { type: 'string' },
        burst: { type: 'boolean' },
        'max-in-flight': { type: 'string' },
        diagnostics: { type: 'string' },
        ota: { type: 'boolean' },
        'ota-faults': { type: 'string' },
        'ota-ca': { type: 'string' },
        'ota-insecure': { type: 'boolean' },
        username: { type: 'string' },
        password: { type: 'string' },
        duration: { type: 'string' },
        status: { type: 'string' },
        verbose: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const str = (key: string) => values[key] as string | undefined
  const broker = str('broker') ?? 'mqtt://127.0.0.1:1883'
  let url: URL
  try {
    url = new URL(broker)
  } catch {
    throw new UsageError(`--broker must be a URL such as mqtt://127.0.0.1:1883, not "${broker}"`)
  }
  if (!['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:'].includes(url.protocol)) throw new UsageError(`--broker: unsupported scheme ${url.protocol} (use mqtt:, mqtts:, ws: or wss:)`)
  for (const flag of ['group', 'prefix', 'host-id']) {
    const value = str(flag)
    if (value !== undefined && (value === '' || /[/+#]/.test(value))) throw new UsageError(`--${flag} must be a non-empty Sparkplug id without '/', '+' or '#', not "${value}"`)
  }
  const burst = values.burst === true
  const maxInFlight = integer('max-in-flight', str('max-in-flight'), 64, 1)
  if (str('max-in-flight') !== undefined && !burst) throw new UsageError('--max-in-flight only applies with --burst')
  const duration = str('duration')
  const hostId = str('host-id')
  const faults = str('faults')
  const username = str('username')
  const password = str('password')
  const ota = otaOptions(values.ota === true, str('ota-faults'), str('ota-ca'), values['ota-insecure'] === true)
  return {
    fleet: {
      brokerUrl: broker,
      nodes: integer('nodes', str('nodes'), 10, 1),
      devicesPerNode: integer('devices', str('devices'), 5, 0),
      rateHz: positive('rate', str('rate'), 1),
      groupId: str('group') ?? 'Plant1',
      nodeIdPrefix: str('prefix') ?? 'esp32-',
      seed: integer('seed', str('seed'), 1, 0),
      diagnosticsIntervalMs: positive('diagnostics', str('diagnostics'), 10, true) * 1000,
      ...(hostId ? { hostId } : {}),
      ...(faults !== undefined ? { faults: parseFaults(faults) } : {}),
      ...(burst ? { burst: { maxInFlight } } : {}),
      ...(ota ? { ota } : {}),
      ...(username !== undefined ? { username } : {}),
      ...(password !== undefined ? { password } : {}),
    },
    durationS: duration === undefined ? null : positive('duration', duration, 0),
    statusS: positive('status', str('status'), 5),
    verbose: values.verbose === true,
    help: values.help === true,
  }
}

function otaOptions(enabled: boolean, faults: string | undefined, caFile: string | undefined, insecure: boolean): OtaOptions | undefined {
  if (!enabled) {
    if (faults !== undefined || caFile !== undefined || insecure) throw new UsageError('--ota-faults, --ota-ca and --ota-insecure only apply with --ota')
    return undefined
  }
  let ca: string | undefined
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8')
    } catch (error) {
      throw new UsageError(`--ota-ca: cannot read ${caFile}: ${(error as Error).message}`)
    }
  }
  return { ...(faults !== undefined ? { faults: parseOtaFaults(faults) } : {}), ...(ca !== undefined ? { ca } : {}), ...(insecure ? { insecure } : {}) }
}
