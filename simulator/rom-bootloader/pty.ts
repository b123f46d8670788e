// An emulated board behind a real serial device path. socat makes a pseudo-terminal pair; the board sits on
// one end (<dir>/<name>-board) and the console, esptool or a terminal opens the other (<dir>/<name>) like
// any /dev/ttyUSB*. A pty ignores the baud rate (the board paces itself) and refuses DTR/RTS, so the
// board cannot be reset through it: it starts in the download mode, and a host's reset attempt fails
// with "Inappropriate ioctl for device", which hosts must tolerate (esptool does).

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { SerialPort } from 'serialport'
import type { ChipName } from '../../shared/domain/rom-bootloader/chips'
import { EmulatedBoard, type BoardFault, type EmulatedBoardOptions } from './emulated-board'

export const defaultSocatPath = '/usr/bin/socat'

export interface PtyOptions {
  /** Folder for the two device links; created if missing. */
  readonly dir: string
  /** The console side is <dir>/<name>, the board side <dir>/<name>-board. */
  readonly name: string
  readonly socatPath?: string
  /** How long socat may take to create the pair. */
  readonly startTimeoutMs?: number
}

export interface PtyBoard {
  /** The device the console opens. */
  readonly path: string
  readonly board: EmulatedBoard
  /** Kills socat and closes the board's end. The board itself is left open for inspection. */
  stop(): Promise<void>
}

export function haveSocat(socatPath = defaultSocatPath): boolean {
  return existsSync(socatPath)
}

/**
 * Starts socat, connects `board` to the board side and resolves with the console side's path. If the board
 * is unplugged (a fault), its pty pair disappears as a USB device node would.
 */
export async function startBoardOnPty(board: EmulatedBoard, options: PtyOptions): Promise<PtyBoard> {
  const socatPath = options.socatPath ?? defaultSocatPath
  if (!haveSocat(socatPath)) throw new Error(`socat is not installed at ${socatPath} (apt-get install socat).`)
  mkdirSync(options.dir, { recursive: true })
  const path = join(options.dir, options.name)
  const boardPath = `${path}-board`
  for (const link of [path, boardPath]) rmSync(link, { force: true })

  const socat = spawn(socatPath, ['-d', '-d', `pty,raw,echo=0,link=${boardPath}`, `pty,raw,echo=0,link=${path}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  const exited = new Promise<void>((resolve) => socat.once('exit', () => resolve()))
  try {
    await socatReady(socat, options.startTimeoutMs ?? 5000)
  } catch (error) {
    socat.kill('SIGKILL')
    await exited
    throw error
  }

  let port: SerialPort
  try {
    port = await openPort(boardPath)
  } catch (error) {
    socat.kill('SIGTERM')
    await exited
    throw error
  }
  const unsubscribeOutput = board.onOutput((bytes) => {
    if (port.isOpen) port.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length))
  })
  port.on('data', (chunk: Buffer) => board.receive(chunk))
  // A write racing the close after an unplug fails harmlessly; nothing else reports through 'error'.
  port.on('error', () => {})

  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      unsubscribeOutput()
      unsubscribeEvents()
      if (port.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()))
      if (socat.exitCode === null && socat.signalCode === null) {
        socat.kill('SIGTERM')
        const killer = setTimeout(() => socat.kill('SIGKILL'), 2000)
        await exited
        clearTimeout(killer)
      }
      // socat removes its links on a clean exit; not after SIGKILL.
      for (const link of [path, boardPath]) rmSync(link, { force: true })
    })()
    return stopping
  }
  const unsubscribeEvents = board.onEvent((event) => {
    // The console's open port sees its device vanish (EIO, then a disconnect), as with a pulled USB plug.
    if (event.kind === 'unplugged') void stop()
  })
  return { path, board, stop }
}

function socatReady(socat: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => fail(new Error(`socat did not create the pty pair within ${timeoutMs} ms: ${log.trim()}`)), timeoutMs)
    const onData = (chunk: Buffer): void => {
      log += chunk.toString()
      // With -d -d socat says this once both ends exist and their links are made.
      if (log.includes('starting data transfer loop')) {
        cleanup()
        resolve()
      }
    }
    const onExit = (code: number | null): void => fail(new Error(`socat exited with ${code} before the pty pair was ready: ${log.trim()}`))
    const cleanup = (): void => {
      clearTimeout(timer)
      socat.stderr?.off('data', onData)
      socat.off('exit', onExit)
      // Keep draining stderr so socat never blocks on a full pipe.
      socat.stderr?.resume()
    }
    const fail = (error: Error): void => {
      cleanup()
      reject(error)
    }
    socat.stderr?.on('data', onData)
    socat.once('exit', onExit)
  })
}

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    // The baud rate means nothing on a pty; the board paces itself.
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false })
    port.open((error) => (error ? reject(error) : resolve(port)))
  })
}

export interface EmulatedBoardsOptions extends Omit<EmulatedBoardOptions, 'faults' | 'chip' | 'mac' | 'seed'> {
  readonly count: number
  readonly chip?: ChipName
  readonly dir: string
  /** Links are <dir>/<namePrefix><n>, n from 0, like /dev/ttyUSB0. Default "ttyESP". */
  readonly namePrefix?: string
  /** Board n gets seed + n, so each has its own MAC. Default 1. */
  readonly seed?: number
  /** Faults by board index (0-based, the n in the link name). */
  readonly faults?: Readonly<Record<number, readonly BoardFault[]>>
  readonly socatPath?: string
}

export interface EmulatedBoards {
  readonly boards: readonly { readonly name: string; readonly path: string; readonly board: EmulatedBoard }[]
  stop(): Promise<void>
}

/** Several boards, each on its own pty pair. If one cannot start, the others are stopped and it throws. */
export async function startEmulatedBoards(options: EmulatedBoardsOptions): Promise<EmulatedBoards> {
  const { count, dir, namePrefix = 'ttyESP', seed = 1, faults = {}, socatPath, ...boardOptions } = options
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`--boards needs a whole number of at least 1, not ${count}.`)
  const started: { name: string; path: string; board: EmulatedBoard; stop(): Promise<void> }[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((entry) => entry.stop()))
    for (const entry of started) entry.board.close()
  }
  try {
    for (let index = 0; index < count; index++) {
      const name = `${namePrefix}${index}`
      const board = new EmulatedBoard({ ...boardOptions, seed: seed + index, faults: faults[index] ?? [] })
      try {
        const pty = await startBoardOnPty(board, { dir, name, ...(socatPath ? { socatPath } : {}) })
        started.push({ name, path: pty.path, board, stop: pty.stop })
      } catch (error) {
        board.close()
        throw error
      }
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { boards: started.map(({ name, path, board }) => ({ name, path, board })), stop }
}
