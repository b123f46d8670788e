// The ROM prints a boot message on UART0 after every reset, before any SLIP traffic, e.g.
//   rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))
//   waiting for download
// The SLIP decoder hands these bytes over as noise; reading them tells the engineer why a sync fails
// ("wrong boot mode", the way esptool's _connect_attempt reports it) or that the app has crashed.

/** The serial text as the ROM sent it, one character per byte (the ROM prints ASCII; nothing here needs more). */
export function bootLogText(bytes: Uint8Array): string {
  let text = ''
  for (const byte of bytes) text += String.fromCharCode(byte)
  return text
}

export interface BootMessage {
  /** The strapping value after "boot:", e.g. 0x3 for download boot on ESP32 and 0x13 for SPI boot. */
  readonly bootMode: number
  readonly bootModeText: string
  /** "waiting for download" followed: the chip sits in the ROM loader and should answer SYNC. */
  readonly waitingForDownload: boolean
  readonly resetCause: { readonly code: number; readonly name: string } | null
}

/** esptool's pattern: rb"boot:(0x[0-9a-fA-F]+)(.*waiting for download)?" over everything read after the reset. */
export function parseBootMessage(text: string): BootMessage | null {
  const boot = /boot:(0x[0-9a-fA-F]+)(?:\s*\(([^)\r\n]*\)?)\))?([\s\S]*waiting for download)?/.exec(text)
  if (!boot) return null
  const reset = /rst:(0x[0-9a-fA-F]+)\s*\(([A-Z0-9_]+)\)/.exec(text)
  return {
    bootMode: Number.parseInt(boot[1]!, 16),
    bootModeText: boot[2] ?? '',
    waitingForDownload: boot[3] !== undefined,
    resetCause: reset ? { code: Number.parseInt(reset[1]!, 16), name: reset[2]! } : null,
  }
}

/** Why a SYNC got no answer, in esptool's words, when the boot message explains it. */
export function syncFailureHint(message: BootMessage): string {
  return message.waitingForDownload
    ? 'Download mode successfully detected, but getting no sync reply: the serial TX path seems to be down.'
    : `Wrong boot mode detected (0x${message.bootMode.toString(16)})! The chip needs to be in download mode.`
}

/**
 * esptool's slip_reader raises on these when it finds them in unframed bytes: the app (or the stub) has
 * crashed. Returns the cause in brackets when the panic names one.
 */
export function detectPanic(text: string): { readonly cause: string | null } | null {
  const guru = /G?uru Meditation Error: (?:Core +\d panic'ed \(([a-zA-Z ]*)\))?/.exec(text)
  if (guru) return { cause: guru[1] ?? null }
  const fatal = /F?atal exception \(\d+\): (?:([a-zA-Z ]*)?[\s\S]*epc)?/.exec(text)
  if (fatal) return { cause: fatal[1] ?? null }
  return null
}
