// `npm run emulate` flags, parsed apart from the program so they can be tested without starting socat.

import { chipByName, type ChipName } from '../../shared/domain/rom-bootloader/chips'
import { detectedFlashSizes } from '../../shared/domain/rom-bootloader/chips'
import type { BoardFault } from './emulated-board'

export class UsageError extends Error {}

export interface EmulateOptions {
  readonly help: boolean
  readonly boards: number
  readonly chip: ChipName
  readonly dir: string
  readonly paced: boolean
  readonly flashSize: number
  readonly startIn: 'download' | 'app'
  readonly seed: number
  /** Faults by board index; an index of -1 means every board. */
  readonly faults: readonly { readonly board: number; readonly fault: BoardFault }[]
  readonly verbose: boolean
}

export const usage = `npm run emulate -- [options]

Emulated ESP32-family boards answering the ROM serial bootloader (and esptool's flasher stub) on
pseudo-terminals, one line per board with the device path to open. Runs until Ctrl-C.

  --boards <n>         boards to start (default 1); links are <dir>/ttyESP0, ttyESP1, …
  --chip <name>        ESP32, ESP32-S2, ESP32-S3, ESP32-C2, ESP32-C3, ESP32-C6, ESP32-H2 (default ESP32-S3)
  --dir <path>         folder for the device links (default /tmp/esp-boards)
  --flash-size <size>  4MB, 8MB, 16MB… (default 4MB)
  --start-in <mode>    download or app (default download; a pty cannot carry the DTR/RTS reset)
  --unpaced            move bytes as fast as the pty does instead of at baud / 10 bytes a second
  --seed <n>           seeds the MACs and random faults (default 1)
  --fault <spec>       repeatable: KIND[=VALUE][@BOARD], BOARD the n of ttyESPn (all boards without @)
                         silent                 answers nothing until reset into the download mode
                         corrupt-frames=0.05    flips a bit in that share of the frames it sends
                         unplug=65536           disappears after that many bytes of flash data
                         flash-encryption       eFuses report flash encryption on
  --verbose            print each board's boots, stub starts, baud changes and flash writes
  --help
`

export function parseEmulateArgs(argv: readonly string[]): EmulateOptions {
  let help = false
  let boards = 1
  let chip: ChipName = 'ESP32-S3'
  let dir = '/tmp/esp-boards'
  let paced = true
  let flashSize = 4 << 20
  let startIn: 'download' | 'app' = 'download'
  let seed = 1
  let verbose = false
  const faults: { board: number; fault: BoardFault }[] = []

  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!
    const value = (): string => {
      const next = argv[++i]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`${flag} needs a value.`)
      return next
    }
    switch (flag) {
      case '--help':
      case '-h':
        help = true
        break
      case '--boards':
        boards = wholeNumber(flag, value(), 1)
        break
      case '--chip': {
        const name = value()
        const found = chipByName(name)
        if (!found) throw new UsageError(`--chip ${name} is not one of ESP32, ESP32-S2, ESP32-S3, ESP32-C2, ESP32-C3, ESP32-C6, ESP32-H2.`)
        chip = found.name
        break
      }
      case '--dir':
        dir = value()
        break
      case '--flash-size':
        flashSize = parseFlashSize(value())
        break
      case '--start-in': {
        const mode = value()
        if (mode !== 'download' && mode !== 'app') throw new UsageError(`--start-in takes download or app, not ${mode}.`)
        startIn = mode
        break
      }
      case '--unpaced':
        paced = false
        break
      case '--seed':
        seed = wholeNumber(flag, value(), 0)
        break
      case '--fault':
        faults.push(parseFaultSpec(value()))
        break
      case '--verbose':
        verbose = true
        break
      default:
        throw new UsageError(`Unknown flag ${flag}.`)
    }
  }
  for (const { board } of faults) {
    if (board >= boards) throw new UsageError(`--fault …@${board}: there are only ${boards} boards (ttyESP0…ttyESP${boards - 1}).`)
  }
  return { help, boards, chip, dir, paced, flashSize, startIn, seed, faults, verbose }
}

function wholeNumber(flag: string, text: string, minimum: number): number {
  const value = Number(text)
  if (!Number.isInteger(value) || value < minimum) throw new UsageError(`${flag} needs a whole number of at least ${minimum}, not ${text}.`)
  return value
}

function parseFlashSize(text: string): number {
  const match = /^(\d+)\s*(KB|MB)$/i.exec(text.trim())
  const bytes = match ? Number(match[1]) * (match[2]!.toUpperCase() === 'MB' ? 1 << 20 : 1024) : Number.NaN
  if (![...detectedFlashSizes.values()].includes(bytes)) throw new UsageError(`--flash-size ${text} is not a flash size a JEDEC id can state (256KB…256MB).`)
  return bytes
}

export function parseFaultSpec(spec: string): { board: number; fault: BoardFault } {
  const match = /^([a-z-]+)(?:=([^@]+))?(?:@(\d+))?$/.exec(spec.trim())
  if (!match) throw new UsageError(`--fault ${spec} is not KIND[=VALUE][@BOARD].`)
  const [, kind, argument, boardText] = match
  const board = boardText === undefined ? -1 : Number(boardText)
  const number = (what: string): number => {
    const value = Number(argument)
    if (argument === undefined || !Number.isFinite(value)) throw new UsageError(`--fault ${kind} needs =${what}.`)
    return value
  }
  switch (kind) {
    case 'silent':
      return { board, fault: { kind: 'silent' } }
    case 'flash-encryption':
      return { board, fault: { kind: 'flash-encryption' } }
    case 'corrupt-frames': {
      const probability = argument === undefined ? 0.05 : number('PROBABILITY')
      if (probability < 0 || probability > 1) throw new UsageError(`--fault corrupt-frames=${argument}: a probability is between 0 and 1.`)
      return { board, fault: { kind: 'corrupt-frames', probability } }
    }
    case 'unplug': {
      const afterFlashBytes = number('BYTES')
      if (!Number.isInteger(afterFlashBytes) || afterFlashBytes < 0) throw new UsageError(`--fault unplug=${argument}: give a whole number of bytes.`)
      return { board, fault: { kind: 'unplug', afterFlashBytes } }
    }
    default:
      throw new UsageError(`--fault ${kind} is not silent, corrupt-frames, unplug or flash-encryption.`)
  }
}

/** The faults of one board from the parsed list. */
export function faultsForBoard(options: EmulateOptions, board: number): BoardFault[] {
  return options.faults.filter((entry) => entry.board === board || entry.board === -1).map((entry) => entry.fault)
}
