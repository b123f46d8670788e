// `npm run flash -- --port /dev/ttyUSB0 [--baud 921600] [--offset 0x10000] IMAGE | RECIPE.json | flasher_args.json`
// and `npm run flash -- ports`: the console's flasher without a display (a plant PC over SSH, a phone in
// Termux). The same core code as the Bench screen, with a text progress bar.
import { readFileSync } from 'node:fs'
import { dirname, resolve, basename } from 'node:path'
import { parseArgs } from 'node:util'
import { SerialPort } from 'serialport'
import { regionRoles, type FlashJobRow } from '../../shared/contract'
import { identifyBridge } from '../../shared/domain/bench/usb-serial'
import type { LoadedRegion, RegionRole } from '../../shared/domain/bench/recipe'
import { runFlashJob } from '../core/bench/flash-job'
import { FlasherError } from '../core/flasher/flasher-error'

const usage = `Usage: npm run flash -- --port PATH [--baud N] [--offset ADDR] [--serial ID] IMAGE.bin | RECIPE.json | flasher_args.json
       npm run flash -- ports

  --port PATH     the serial port (see "ports")
  --baud N        speed once the flasher stub runs (default 921600; try 460800 or 115200 if it fails)
  --offset ADDR   where a single image goes (default 0x10000, an app's usual place)
  --serial ID     the identity written to the board's NVS partition when the recipe has one (default NODE-0001)
  --group ID      the Sparkplug group written with it (default Plant1)

A recipe is {"regions": [{"role": "app", "offset": "0x10000", "file": "app.bin"}, …], "baud": 921600},
files relative to it; roles: ${regionRoles.join(', ')}. ESP-IDF's build/flasher_args.json works as it is.`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      baud: { type: 'string', default: '921600' },
      offset: { type: 'string', default: '0x10000' },
      serial: { type: 'string', default: 'NODE-0001' },
      group: { type: 'string', default: 'Plant1' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(`${usage}\n`)
    return 0
  }
  if (positionals[0] === 'ports') return listPorts()
  if (!values.port || positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'Name an image or a recipe to flash.' : !values.port ? 'Name the port with --port (see "npm run flash -- ports").' : 'Flash one image or recipe at a time.')
  const baud = Number(values.baud)
  if (![115200, 230400, 460800, 921600, 1500000, 2000000].includes(baud)) throw new UsageError(`--baud must be 115200, 230400, 460800, 921600, 1500000 or 2000000, not "${values.baud}".`)
  const { regions, baud: recipeBaud } = readRecipe(positionals[0]!, parseAddress(values.offset, '--offset'))

  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  const bar = progressBar()
  const started = Date.now()
  try {
    const board = await runFlashJob(
      { port: values.port, identity: { syncHint: identifyBridge(undefined, undefined).syncHint }, regions, serial: values.serial, group: values.group, batchId: 0, baud: recipeBaud ?? baud, signal: controller.signal, resume: false },
      (update) => bar.update(update),
    )
    bar.finish()
    process.stdout.write(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${board.chip} ${board.mac}, every region verified by MD5.\n`)
    return 0
  } catch (error) {
    bar.finish()
    if (error instanceof FlasherError) {
      process.stderr.write(`flash: ${error.message}\n`)
      return error.code === 'cancelled' ? 130 : 1
    }
    throw error
  }
}

async function listPorts(): Promise<number> {
  const ports = (await SerialPort.list()).filter((port) => port.vendorId)
  if (ports.length === 0) {
    process.stdout.write('No USB serial ports. Plug in a board; check that the cable carries data and, on Linux, that you are in the dialout group.\n')
    return 0
  }
  for (const port of ports) process.stdout.write(`${port.path}\t${identifyBridge(port.vendorId, port.productId).name}${port.serialNumber ? `\tserial ${port.serialNumber}` : ''}\n`)
  return 0
}

interface RecipeFile {
  regions?: { role?: string; offset?: string | number; file?: string }[]
  baud?: number
  flash_files?: Record<string, string>
}

function readRecipe(path: string, singleOffset: number): { regions: LoadedRegion[]; baud: number | null } {
  const file = resolve(path)
  const bytes = readBytes(file)
  if (!file.endsWith('.json')) return { regions: [{ role: 'app', offset: singleOffset, fileName: basename(file), bytes }], baud: null }
  let recipe: RecipeFile
  try {
    recipe = JSON.parse(Buffer.from(bytes).toString('utf8')) as RecipeFile
  } catch (error) {
    throw new UsageError(`${path} is not JSON: ${(error as Error).message}`)
  }
  const base = dirname(file)
  if (recipe.flash_files) {
    // ESP-IDF's flasher_args.json: offsets to files, roles told by their names.
    const regions = Object.entries(recipe.flash_files).map(([offset, name]) => ({
      role: roleFromName(name),
      offset: parseAddress(offset, `${path} offset`),
      fileName: name,
      bytes: readBytes(resolve(base, name)),
    }))
    return { regions, baud: null }
  }
  if (!Array.isArray(recipe.regions) || recipe.regions.length === 0) throw new UsageError(`${path} has no "regions" (or "flash_files") to flash.`)
  const regions = recipe.regions.map((region, index) => {
    if (!region.file) throw new UsageError(`${path} region ${index + 1} has no "file".`)
    const role = (region.role ?? 'data') as RegionRole
    if (!regionRoles.includes(role)) throw new UsageError(`${path} region ${index + 1}: role "${region.role}" is not one of ${regionRoles.join(', ')}.`)
    return { role, offset: parseAddress(String(region.offset ?? ''), `${path} region ${index + 1} offset`), fileName: region.file, bytes: readBytes(resolve(base, region.file)) }
  })
  return { regions, baud: typeof recipe.baud === 'number' ? recipe.baud : null }
}

function roleFromName(name: string): RegionRole {
  if (/bootloader/i.test(name)) return 'bootloader'
  if (/partition/i.test(name)) return 'partition-table'
  if (/ota_?data/i.test(name)) return 'otadata'
  if (/nvs/i.test(name)) return 'nvs'
  return 'app'
}

function parseAddress(text: string, what: string): number {
  const value = /^0x[0-9a-f]+$/i.test(text) ? parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`${what} must be an address such as 0x10000, not "${text}".`)
  return value
}

function readBytes(file: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(file))
  } catch (error) {
    throw new UsageError(`Cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
}

/** One line redrawn in place on a terminal; a line per 10% when the output is a log file. */
function progressBar() {
  const tty = process.stderr.isTTY
  let row: Partial<FlashJobRow> = {}
  let lastPhase = ''
  let lastTenth = -1
  return {
    update(update: Partial<FlashJobRow>) {
      row = { ...row, ...update }
      if (row.phase && row.phase !== lastPhase && !(row.state === 'writing' && row.total)) {
        if (tty) process.stderr.write('\r\x1b[K')
        process.stderr.write(`${row.phase}\n`)
        lastPhase = row.phase
      }
      if (!row.total || row.written === undefined) return
      const share = row.written / row.total
      const width = 30
      const line = `[${'#'.repeat(Math.round(share * width)).padEnd(width, '.')}] ${(share * 100).toFixed(0).padStart(3)}% ${kb(row.written)} of ${kb(row.total)}${row.bytesPerSecond ? ` · ${kb(row.bytesPerSecond)}/s` : ''}${row.secondsLeft ? ` · ${row.secondsLeft} s left` : ''}`
      if (tty) process.stderr.write(`\r\x1b[K${line}`)
      else if (Math.floor(share * 10) > lastTenth) {
        lastTenth = Math.floor(share * 10)
        process.stderr.write(`${line}\n`)
      }
    },
    finish() {
      if (tty) process.stderr.write('\n')
    },
  }
}

const kb = (bytes: number) => (bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KB`)

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`flash: ${(error as Error).message}\nTry --help.\n`)
      process.exit(2)
    }
    process.stderr.write(`flash: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
