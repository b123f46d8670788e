// `npm run emulate`: emulated boards on pseudo-terminals until Ctrl-C, one line per board with its device.
import { formatFlashSize } from '../../shared/domain/rom-bootloader/chips'
import type { BoardEvent, BoardFault } from './emulated-board'
import { faultsForBoard, parseEmulateArgs, usage, UsageError, type EmulateOptions } from './cli-options'
import { haveSocat, startEmulatedBoards, type EmulatedBoards } from './pty'

async function main(): Promise<number> {
  let options: EmulateOptions
  try {
    options = parseEmulateArgs(process.argv.slice(2))
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`emulate: ${error.message}\nTry --help.\n`)
    return 2
  }
  if (options.help) {
    process.stdout.write(usage)
    return 0
  }
  if (!haveSocat()) {
    process.stderr.write('emulate: needs socat at /usr/bin/socat for the pseudo-terminals (apt-get install socat).\n')
    return 1
  }

  const faults: Record<number, BoardFault[]> = {}
  for (let index = 0; index < options.boards; index++) faults[index] = faultsForBoard(options, index)
  let boards: EmulatedBoards
  try {
    boards = await startEmulatedBoards({
      count: options.boards,
      chip: options.chip,
      dir: options.dir,
      paced: options.paced,
      flashSize: options.flashSize,
      startIn: options.startIn,
      seed: options.seed,
      faults,
    })
  } catch (error) {
    process.stderr.write(`emulate: ${(error as Error).message}\n`)
    return 1
  }

  for (const [index, { path, board }] of boards.boards.entries()) {
    const faultText = faults[index]!.length > 0 ? `  faults: ${faults[index]!.map(describeFault).join(', ')}` : ''
    process.stdout.write(
      `${path}  ${board.chip.name}  MAC ${board.macAddress}  flash ${formatFlashSize(board.flash.length)} (id 0x${board.flashId.toString(16)})  ` +
        `${options.paced ? `paced at ${board.baud} baud` : 'unpaced'}  ${board.mode}${faultText}\n`,
    )
    board.onEvent((event) => {
      if (options.verbose || event.kind === 'unplugged') process.stdout.write(`${path}: ${describeEvent(event)}\n`)
    })
  }
  process.stdout.write('Ctrl-C to stop.\n')

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  process.stdout.write(`emulate: ${signal}, stopping ${options.boards} board${options.boards === 1 ? '' : 's'}…\n`)
  const force = (): never => process.exit(130)
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  await boards.stop()
  return 0
}

function describeFault(fault: BoardFault): string {
  switch (fault.kind) {
    case 'corrupt-frames':
      return `corrupt-frames=${fault.probability}`
    case 'unplug':
      return `unplug after ${fault.afterFlashBytes} flash bytes`
    default:
      return fault.kind
  }
}

function describeEvent(event: BoardEvent): string {
  switch (event.kind) {
    case 'boot':
      return `boot into ${event.mode} (${event.cause})`
    case 'baud-changed':
      return `UART at ${event.baud} baud (${event.by})`
    case 'flash-begin':
      return `${event.compressed ? 'compressed ' : ''}write of ${event.size} bytes at 0x${event.offset.toString(16)}`
    case 'flash-end':
      return `wrote ${event.bytesWritten} bytes at 0x${event.offset.toString(16)}`
    case 'erased':
      return `erased ${event.size} bytes at 0x${event.offset.toString(16)}`
    case 'refused':
      return `refused ${event.command}: ${event.detail}`
    case 'fault':
      return `fault ${describeFault(event.fault)}`
    case 'unplugged':
      return `unplugged after ${event.flashBytesReceived} bytes of flash data`
    case 'held-in-reset':
      return 'held in reset'
    case 'stub-running':
      return 'flasher stub running'
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`emulate: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
