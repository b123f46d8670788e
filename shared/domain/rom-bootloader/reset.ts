// Resetting a board into the ROM download mode (or back into its app) by wiggling DTR and RTS, as data.
// The transport applies the steps in order and waits; nothing here touches a port or a timer.
//
// Why it works: dev boards wire DTR and RTS of the USB-UART bridge through two cross-coupled transistors
// to GPIO0 (IO0) and EN. A line that is "asserted" (pyserial setDTR(True)) is driven low on the bridge, and
// the circuit pulls EN low only when RTS is asserted and DTR is not, and IO0 low only when DTR is asserted
// and RTS is not; with both lines equal neither pin moves, so opening a port does not reset the board.
// ESP32-S3/C3/C6/H2 native USB ("USB-Serial/JTAG", VID:PID 303A:1001) has no transistors: the peripheral
// reads the same two lines itself and needs its own order of steps.
//
// Sequences and timings are esptool's (esptool/reset.py; DEFAULT_RESET_DELAY 0.05 s, and esptool retries
// with 0.55 s when the first attempt fails).

/** The state of both control lines after a step; true means asserted (pyserial True, the bridge pin low). */
export interface ControlLines {
  readonly dtr: boolean
  readonly rts: boolean
}

/** Set both lines, then wait delayMs before the next step. */
export interface ControlLineStep extends ControlLines {
  readonly delayMs: number
}

export interface ResetSequence {
  readonly name: 'classic' | 'unix-tight' | 'usb-jtag-serial' | 'hard-reset' | 'custom'
  readonly steps: readonly ControlLineStep[]
}

export const defaultResetDelayMs = 50
export const extraResetDelayMs = 550

const idle: ControlLines = { dtr: false, rts: false }

function step(dtr: boolean, rts: boolean, delayMs = 0): ControlLineStep {
  return { dtr, rts, delayMs }
}

/**
 * esptool ClassicReset, "D0|R1|W0.1|D1|R0|W0.05|D0": hold EN low for 100 ms, then release it while IO0 is
 * low. The (1,1) step between is a few microseconds long in practice; the RC delay on EN means the chip
 * samples IO0 only after RTS has dropped.
 */
export function classicReset(resetDelayMs = defaultResetDelayMs): ResetSequence {
  return {
    name: 'classic',
    steps: [
      step(false, false), // IO0 high
      step(false, true, 100), // EN low, chip in reset
      step(true, true), // IO0 low…
      step(true, false, resetDelayMs), // …EN high, chip out of reset with IO0 low
      step(false, false), // IO0 high, done
    ],
  }
}

/**
 * esptool UnixTightReset: both lines in one ioctl per step, so the board never sees the (1,1) moment.
 * Needs a transport that sets DTR and RTS together (node serialport's set({ dtr, rts }) does).
 */
export function unixTightReset(resetDelayMs = defaultResetDelayMs): ResetSequence {
  return {
    name: 'unix-tight',
    steps: [
      step(false, false),
      step(true, true),
      step(false, true, 100), // IO0 high and EN low, chip in reset
      step(true, false, resetDelayMs), // IO0 low and EN high, chip out of reset
      step(false, false), // IO0 high, done
    ],
  }
}

/**
 * esptool USBJTAGSerialReset. The peripheral latches "boot to download" from DTR and resets on RTS, and the
 * order goes through (1,1) rather than (0,0) on the way into reset.
 */
export function usbJtagSerialReset(): ResetSequence {
  return {
    name: 'usb-jtag-serial',
    steps: [
      step(false, false, 100), // idle
      step(true, false, 100), // set IO0
      step(true, true),
      step(false, true, 100), // reset
      step(false, false), // chip out of reset
    ],
  }
}

/** esptool HardReset: pulse EN to restart into the app. USB ports get 200 ms either side so they can re-enumerate. */
export function hardReset(options: { readonly usesUsb?: boolean } = {}): ResetSequence {
  return options.usesUsb
    ? { name: 'hard-reset', steps: [step(false, true, 200), step(false, false, 200)] }
    : { name: 'hard-reset', steps: [step(false, true, 100), step(false, false)] }
}

/** Espressif's USB VID and the USB-Serial/JTAG PID (esptool ESPRESSIF_VID, USB_JTAG_SERIAL_PID). */
export const espressifUsbVendorId = 0x303a
export const usbJtagSerialProductId = 0x1001

export interface PortIdentity {
  readonly vendorId?: number
  readonly productId?: number
  /** False on Windows, where esptool cannot set both lines at once. */
  readonly canSetLinesTogether?: boolean
}

/**
 * The sequences esptool tries, in order, for a port (loader.py _construct_reset_strategy_sequence):
 * USB-Serial/JTAG gets its own; a bridge gets the tight reset first where the OS allows it, then the
 * classic one, each with the normal and then the longer delay.
 */
export function resetSequencesFor(port: PortIdentity): ResetSequence[] {
  if (port.vendorId === espressifUsbVendorId && port.productId === usbJtagSerialProductId) return [usbJtagSerialReset()]
  const classic = [classicReset(defaultResetDelayMs), classicReset(extraResetDelayMs)]
  return port.canSetLinesTogether === false ? classic : [unixTightReset(defaultResetDelayMs), unixTightReset(extraResetDelayMs), ...classic]
}

export type ResetParseResult = { readonly ok: true; readonly sequence: ResetSequence } | { readonly ok: false; readonly detail: string }

/**
 * Reads esptool's custom_reset_sequence format (its config file), e.g. "D0|R1|W0.1|D1|R0|W0.05|D0":
 * D = set DTR, R = set RTS, U = set both ("U1,0" = DTR asserted, RTS not), W = wait seconds.
 */
export function parseResetSequence(text: string, initial: ControlLines = idle): ResetParseResult {
  const steps: ControlLineStep[] = []
  let lines = initial
  const commands = text.split('|').map((command) => command.trim())
  for (const command of commands) {
    const code = command[0]
    const argument = command.slice(1)
    const bit = (value: string): boolean | null => (value === '1' ? true : value === '0' ? false : null)
    if (code === 'D' || code === 'R') {
      const level = bit(argument)
      if (level === null) return { ok: false, detail: `"${command}": ${code} takes 0 or 1.` }
      lines = code === 'D' ? { ...lines, dtr: level } : { ...lines, rts: level }
      steps.push({ ...lines, delayMs: 0 })
    } else if (code === 'U') {
      const [dtr, rts] = argument.split(',').map(bit)
      if (dtr === null || rts === null || dtr === undefined || rts === undefined || argument.split(',').length !== 2) {
        return { ok: false, detail: `"${command}": U takes two of 0 or 1, as in U1,0.` }
      }
      lines = { dtr, rts }
      steps.push({ ...lines, delayMs: 0 })
    } else if (code === 'W') {
      const seconds = Number(argument)
      if (argument === '' || !Number.isFinite(seconds) || seconds < 0) return { ok: false, detail: `"${command}": W takes a number of seconds.` }
      const last = steps.pop()
      // A wait with no step before it still has to happen: hold the initial lines for it.
      steps.push({ ...(last ?? lines), delayMs: (last?.delayMs ?? 0) + Math.round(seconds * 1000) })
    } else {
      return { ok: false, detail: `"${command}" is not D, R, U or W.` }
    }
  }
  return { ok: true, sequence: { name: 'custom', steps } }
}

/** The chip pins the two-transistor auto-reset circuit drives for a line state (true = high). */
export function autoResetPins(lines: ControlLines): { readonly en: boolean; readonly io0: boolean } {
  return { en: !(lines.rts && !lines.dtr), io0: !(lines.dtr && !lines.rts) }
}

export type BootAfterReset = 'download' | 'flash' | 'no-reset'

/**
 * What a board behind the auto-reset circuit does after a sequence: the chip samples IO0 when EN rises,
 * which the RC on EN delays by `strapSampleDelayMs`. A simulated board uses this to decide whether to print
 * "waiting for download" or boot its app. Not a model of USB-Serial/JTAG.
 */
export function bootAfterReset(sequence: ResetSequence, options: { readonly initial?: ControlLines; readonly strapSampleDelayMs?: number } = {}): BootAfterReset {
  const sampleDelay = options.strapSampleDelayMs ?? 2
  let previous = autoResetPins(options.initial ?? idle)
  let now = 0
  let pendingSampleAt: number | null = null
  let outcome: BootAfterReset = 'no-reset'
  const steps = sequence.steps
  for (let i = 0; i < steps.length; i++) {
    const pins = autoResetPins(steps[i]!)
    if (!pins.en) pendingSampleAt = null
    else if (!previous.en) pendingSampleAt = now + sampleDelay
    const next = now + steps[i]!.delayMs
    if (pendingSampleAt !== null && pendingSampleAt < next) {
      outcome = pins.io0 ? 'flash' : 'download'
      pendingSampleAt = null
    }
    previous = pins
    now = next
  }
  // The last step holds forever, so a pending sample happens with its pins.
  if (pendingSampleAt !== null) outcome = previous.io0 ? 'flash' : 'download'
  return outcome
}
