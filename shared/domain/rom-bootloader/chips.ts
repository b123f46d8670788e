// What the console needs to know about each ESP32-family chip to talk to its loader: how to recognise it,
// where its MAC and SPI registers are, where its bootloader goes and what its ROM loader can do.
// The protocol document gives the detection method and the status-byte rule; the numbers it lacks come from
// esptool (esptool/targets/*.py and loader.py, cross-checked with esptool-js src/targets/*.ts), and each
// such constant says so.

import { ESP_CHIPS, type EspChipName } from '../firmware/chips'
import { hex32, readU32LE, toHex, writeU32LE } from './bytes'
import type { CommandName, StatusLength } from './packets'

/** The chips whose loader the console speaks to: the image formats know a few more. */
export type ChipName = Extract<EspChipName, 'ESP32' | 'ESP32-S2' | 'ESP32-S3' | 'ESP32-C2' | 'ESP32-C3' | 'ESP32-C6' | 'ESP32-H2'>

/** Which loader answers: the chip's mask ROM, or esptool's flasher stub uploaded into RAM. */
export type LoaderKind = 'rom' | 'stub'

export interface SpiRegisters {
  readonly base: number
  readonly usr: number
  readonly usr1: number
  readonly usr2: number
  readonly mosiDlen: number
  readonly misoDlen: number
  readonly w0: number
}

export interface ChipDefinition {
  readonly name: ChipName
  /** esptool IMAGE_CHIP_ID: the chip id of the image header, and GET_SECURITY_INFO's chip_id on chips that report it. */
  readonly chipId: number
  /** Values read at CHIP_DETECT_MAGIC_REG_ADDR (esptool CHIP_DETECT_MAGIC_VALUE); one per ROM revision that differs. */
  readonly magicValues: readonly number[]
  /** How esptool identifies the chip (doc, "Chip Type Detection"). */
  readonly detection: 'magic-register' | 'security-info'
  /** ESP32 has no GET_SECURITY_INFO; the ESP32-S2 answers it without chip_id (doc, GET_SECURITY_INFO output). */
  readonly securityInfo: 'unsupported' | 'without-chip-id' | 'with-chip-id'
  /** The ROM loader's status bytes (doc: 4 for every ESP32-family ROM; the stub always sends 2). */
  readonly romStatusLength: StatusLength
  /** esptool BOOTLOADER_FLASH_OFFSET: where the second-stage bootloader is written. */
  readonly bootloaderOffset: number
  /** The eFuse words that hold the factory MAC: high word first (its low 16 bits are MAC bytes 0–1). */
  readonly macEfuse: { readonly high: number; readonly low: number }
  /** SPI0 user-command registers, for reading the flash JEDEC id through READ_REG/WRITE_REG. */
  readonly spi: SpiRegisters
  readonly rom: {
    /** FLASH_DEFL_* in the ROM loader (every ESP32-family ROM; not the ESP8266). */
    readonly compressedWrites: boolean
    /** SPI_FLASH_MD5 in the ROM loader; the ROM answers 32 hex characters, the stub 16 raw bytes. */
    readonly md5: boolean
    /** The ROM's FLASH_BEGIN and FLASH_DEFL_BEGIN take a fifth word, "1 to begin encrypted flash" (doc: not ESP32). */
    readonly flashBeginEncryptedWord: boolean
  }
  /** Native USB-OTG download (ESP32-S2, ESP32-S3), which caps ROM blocks at 0x800 (esptool USB_RAM_BLOCK). */
  readonly usbOtg: boolean
}

// esptool: SPI_USR_OFFS etc. are the same on every chip after the ESP32 (targets/esp32s2.py … esp32c6.py).
function spiRegistersAt(base: number): SpiRegisters {
  return { base, usr: base + 0x18, usr1: base + 0x1c, usr2: base + 0x20, mosiDlen: base + 0x24, misoDlen: base + 0x28, w0: base + 0x58 }
}

// MAC_EFUSE_REG holds MAC bytes 2–5; the word after it holds bytes 0–1 in its low half (esptool read_mac).
function macAt(macEfuseReg: number): ChipDefinition['macEfuse'] {
  return { high: macEfuseReg + 4, low: macEfuseReg }
}

const esp32FamilyRom = { compressedWrites: true, md5: true, flashBeginEncryptedWord: true } as const

export const chips: Readonly<Record<ChipName, ChipDefinition>> = {
  ESP32: {
    name: 'ESP32',
    chipId: ESP_CHIPS['ESP32'].imageChipId,
    magicValues: [0x00f01d83],
    detection: 'magic-register',
    securityInfo: 'unsupported',
    romStatusLength: 4,
    bootloaderOffset: 0x1000,
    // esptool ESP32ROM.read_mac: EFUSE_RD_REG_BASE 0x3FF5A000, words 2 and 1, top 2 bytes of word 2 are a CRC.
    macEfuse: { high: 0x3ff5a008, low: 0x3ff5a004 },
    // esptool ESP32ROM: SPI_REG_BASE 0x3FF42000 with the older register layout.
    spi: { base: 0x3ff42000, usr: 0x3ff4201c, usr1: 0x3ff42020, usr2: 0x3ff42024, mosiDlen: 0x3ff42028, misoDlen: 0x3ff4202c, w0: 0x3ff42080 },
    rom: { compressedWrites: true, md5: true, flashBeginEncryptedWord: false },
    usbOtg: false,
  },
  'ESP32-S2': {
    name: 'ESP32-S2',
    chipId: ESP_CHIPS['ESP32-S2'].imageChipId,
    magicValues: [0x000007c6],
    detection: 'magic-register',
    securityInfo: 'without-chip-id',
    romStatusLength: 4,
    bootloaderOffset: 0x1000,
    macEfuse: macAt(0x3f41a044), // esptool ESP32S2ROM.MAC_EFUSE_REG
    spi: spiRegistersAt(0x3f402000),
    rom: esp32FamilyRom,
    usbOtg: true,
  },
  'ESP32-S3': {
    name: 'ESP32-S3',
    chipId: ESP_CHIPS['ESP32-S3'].imageChipId,
    magicValues: [0x00000009],
    detection: 'security-info',
    securityInfo: 'with-chip-id',
    romStatusLength: 4,
    bootloaderOffset: 0x0,
    macEfuse: macAt(0x60007044), // esptool ESP32S3ROM: EFUSE_BASE 0x60007000 + 0x44
    spi: spiRegistersAt(0x60002000),
    rom: esp32FamilyRom,
    usbOtg: true,
  },
  'ESP32-C2': {
    name: 'ESP32-C2',
    chipId: ESP_CHIPS['ESP32-C2'].imageChipId,
    magicValues: [0x6f51306f, 0x7c41a06f], // esptool: ECO0 and ECO1
    detection: 'security-info',
    securityInfo: 'with-chip-id',
    romStatusLength: 4,
    bootloaderOffset: 0x0,
    macEfuse: macAt(0x60008840), // esptool ESP32C2ROM: EFUSE_BASE 0x60008800 + 0x40
    spi: spiRegistersAt(0x60002000),
    rom: esp32FamilyRom,
    usbOtg: false,
  },
  'ESP32-C3': {
    name: 'ESP32-C3',
    chipId: ESP_CHIPS['ESP32-C3'].imageChipId,
    magicValues: [0x6921506f, 0x1b31506f, 0x4881606f, 0x4361606f], // esptool: eco 1+2, eco 3, eco 6, eco 7
    detection: 'security-info',
    securityInfo: 'with-chip-id',
    romStatusLength: 4,
    bootloaderOffset: 0x0,
    macEfuse: macAt(0x60008844), // esptool ESP32C3ROM: EFUSE_BASE 0x60008800 + 0x44
    spi: spiRegistersAt(0x60002000),
    rom: esp32FamilyRom,
    usbOtg: false,
  },
  'ESP32-C6': {
    name: 'ESP32-C6',
    chipId: ESP_CHIPS['ESP32-C6'].imageChipId,
    magicValues: [0x2ce0806f],
    detection: 'security-info',
    securityInfo: 'with-chip-id',
    romStatusLength: 4,
    bootloaderOffset: 0x0,
    macEfuse: macAt(0x600b0844), // esptool ESP32C6ROM: EFUSE_BASE 0x600B0800 + 0x44
    spi: spiRegistersAt(0x60003000),
    rom: esp32FamilyRom,
    usbOtg: false,
  },
  'ESP32-H2': {
    name: 'ESP32-H2',
    chipId: ESP_CHIPS['ESP32-H2'].imageChipId,
    magicValues: [0xd7b73e80],
    detection: 'security-info',
    securityInfo: 'with-chip-id',
    romStatusLength: 4,
    bootloaderOffset: 0x0,
    macEfuse: macAt(0x600b0844), // esptool ESP32H2ROM inherits the ESP32-C6 eFuse block
    spi: spiRegistersAt(0x60003000),
    rom: esp32FamilyRom,
    usbOtg: false,
  },
}

export const chipList: readonly ChipDefinition[] = Object.values(chips)

/** "This ROM address has a different value on each chip model" (doc and esptool). */
export const chipDetectMagicRegAddr = 0x40001000

/** Chips that answer the magic register but that the console does not flash. */
export const unsupportedChipMagicValues: ReadonlyMap<number, string> = new Map([
  [0xfff0c101, 'ESP8266'], // esptool ESP8266ROM.CHIP_DETECT_MAGIC_VALUE
])

/** The loader a session is talking to, which decides several packet shapes. */
export interface LoaderTarget {
  readonly chip: ChipDefinition
  readonly loader: LoaderKind
}

/** esptool FLASH_WRITE_SIZE: the flash block per FLASH_DATA packet the ROM loader takes. */
export const romFlashWriteSize = 0x400
/** esptool stub FLASH_WRITE_SIZE, "matches MAX_WRITE_BLOCK in stub_loader.c"; the doc: "Esptool uses 16KB". */
export const stubFlashWriteSize = 0x4000
/** esptool USB_OTG_BLOCK_SIZE / USB_RAM_BLOCK: the cap on blocks over native USB-OTG (ESP32-S2, ESP32-S3). */
export const usbOtgBlockSize = 0x800
/** esptool ESP_RAM_BLOCK: MEM_DATA packet size for RAM downloads such as the stub upload. */
export const ramBlockSize = 0x1800
/** esptool FLASH_SECTOR_SIZE, "minimum unit of erase". */
export const flashSectorSize = 0x1000

/**
 * The FLASH_DATA block size esptool uses for this loader. Over USB-OTG the ROM takes at most 0x800 and
 * esptool's S2/S3 stub classes drop to 0x800 as well.
 */
export function flashWriteSize(target: LoaderTarget, transport: { readonly usbOtg?: boolean } = {}): number {
  if (transport.usbOtg && target.chip.usbOtg) return usbOtgBlockSize
  return target.loader === 'stub' ? stubFlashWriteSize : romFlashWriteSize
}

export function statusLengthFor(target: LoaderTarget): StatusLength {
  return target.loader === 'stub' ? 2 : target.chip.romStatusLength
}

/** Doc: the fifth FLASH_BEGIN / FLASH_DEFL_BEGIN word is "passed to ROM loader only", and not on ESP32. */
export function flashBeginTakesEncryptedWord(target: LoaderTarget): boolean {
  return target.loader === 'rom' && target.chip.rom.flashBeginEncryptedWord
}

/** Payload bytes before the status bytes for a command, for decodeResponse's layout (esptool resp_data_len). */
export function expectedResponseDataLength(command: CommandName, target: LoaderTarget): number {
  switch (command) {
    case 'SPI_FLASH_MD5':
      return target.loader === 'stub' ? 16 : 32
    case 'GET_SECURITY_INFO':
      return target.chip.securityInfo === 'without-chip-id' ? 12 : 20
    case 'READ_FLASH_SLOW':
      return 64 // esptool ESP32ROM.read_flash_slow: "command always returns 64 byte buffer"
    default:
      return 0
  }
}

/** Looks a chip up by its name as esptool prints it ("ESP32-C3") or as its --chip argument ("esp32c3"). */
export function chipByName(name: string): ChipDefinition | undefined {
  return chipList.find((chip) => chip.name.toLowerCase() === name.toLowerCase() || chip.name.replace('-', '').toLowerCase() === name.toLowerCase())
}

// ---------------------------------------------------------------------------------------------------------
// GET_SECURITY_INFO

/** esptool loader.py SECURITY_INFO_FLAG_MAP: "taken from the ROM code … same across all targets". */
export const securityInfoFlags = {
  SECURE_BOOT_EN: 1 << 0,
  SECURE_BOOT_AGGRESSIVE_REVOKE: 1 << 1,
  SECURE_DOWNLOAD_ENABLE: 1 << 2,
  SECURE_BOOT_KEY_REVOKE0: 1 << 3,
  SECURE_BOOT_KEY_REVOKE1: 1 << 4,
  SECURE_BOOT_KEY_REVOKE2: 1 << 5,
  SOFT_DIS_JTAG: 1 << 6,
  HARD_DIS_JTAG: 1 << 7,
  DIS_USB: 1 << 8,
  DIS_DOWNLOAD_DCACHE: 1 << 9,
  DIS_DOWNLOAD_ICACHE: 1 << 10,
} as const

export type SecurityInfoFlag = keyof typeof securityInfoFlags

export interface SecurityInfo {
  readonly flags: number
  readonly flashCryptCnt: number
  readonly keyPurposes: readonly number[]
  /** Absent on the ESP32-S2, whose answer stops after the key purposes. */
  readonly chipId: number | null
  /** "eco_version" in the doc, "api_version" in esptool. */
  readonly ecoVersion: number | null
  readonly secureDownloadMode: boolean
}

export type SecurityInfoResult = { readonly ok: true; readonly info: SecurityInfo } | { readonly ok: false; readonly detail: string }

/**
 * Reads the GET_SECURITY_INFO payload: "32 bits flags, 1 byte flash_crypt_cnt, 7x1 byte key_purposes,
 * 32-bit word chip_id, 32-bit word eco_version" (20 bytes), or the ESP32-S2's first 12 of them.
 */
export function parseSecurityInfo(payload: Uint8Array): SecurityInfoResult {
  if (payload.length !== 20 && payload.length !== 12) {
    return { ok: false, detail: `Security info is 20 bytes (12 on ESP32-S2); got ${payload.length}.` }
  }
  const flags = readU32LE(payload, 0)
  const full = payload.length === 20
  return {
    ok: true,
    info: {
      flags,
      flashCryptCnt: payload[4]!,
      keyPurposes: Array.from(payload.subarray(5, 12)),
      chipId: full ? readU32LE(payload, 12) : null,
      ecoVersion: full ? readU32LE(payload, 16) : null,
      secureDownloadMode: (flags & securityInfoFlags.SECURE_DOWNLOAD_ENABLE) !== 0,
    },
  }
}

export function securityFlagSet(info: SecurityInfo, flag: SecurityInfoFlag): boolean {
  return (info.flags & securityInfoFlags[flag]) !== 0
}

/** The payload a simulated chip sends; 12 bytes when chipId is null (ESP32-S2). */
export function encodeSecurityInfo(info: Omit<SecurityInfo, 'secureDownloadMode'>): Uint8Array {
  const out = new Uint8Array(info.chipId === null ? 12 : 20)
  writeU32LE(out, 0, info.flags)
  out[4] = info.flashCryptCnt & 0xff
  for (let i = 0; i < 7; i++) out[5 + i] = (info.keyPurposes[i] ?? 0) & 0xff
  if (info.chipId !== null) {
    writeU32LE(out, 12, info.chipId)
    writeU32LE(out, 16, info.ecoVersion ?? 0)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Detection

export type ChipDetection =
  | { readonly ok: true; readonly chip: ChipDefinition; readonly via: 'chip-id' | 'magic-value' | 'secure-download-mode' }
  | {
      readonly ok: false
      readonly reason: 'unknown-chip-id' | 'unknown-magic-value' | 'unsupported-chip' | 'no-evidence'
      readonly detail: string
    }

export function chipFromChipId(chipId: number): ChipDetection {
  const chip = chipList.find((candidate) => candidate.securityInfo === 'with-chip-id' && candidate.chipId === chipId)
  return chip
    ? { ok: true, chip, via: 'chip-id' }
    : { ok: false, reason: 'unknown-chip-id', detail: `Chip id ${chipId} is not a chip this console knows.` }
}

export function chipFromMagicValue(value: number): ChipDetection {
  const chip = chipList.find((candidate) => candidate.magicValues.includes(value >>> 0))
  if (chip) return { ok: true, chip, via: 'magic-value' }
  const unsupported = unsupportedChipMagicValues.get(value >>> 0)
  if (unsupported) {
    return { ok: false, reason: 'unsupported-chip', detail: `The magic value ${hex32(value)} is an ${unsupported}, which this console does not flash.` }
  }
  return { ok: false, reason: 'unknown-magic-value', detail: `The magic value ${hex32(value)} at ${hex32(chipDetectMagicRegAddr)} is not a chip this console knows.` }
}

export interface DetectionEvidence {
  /** GET_SECURITY_INFO's answer; null when the loader refused the command (ESP32). */
  readonly securityInfo?: SecurityInfo | null
  /** READ_REG of 0x40001000; null when the loader refused it (secure download mode). */
  readonly magicValue?: number | null
}

/**
 * The doc's detection flow: chip_id from GET_SECURITY_INFO where the chip reports it; otherwise the magic
 * register (ESP32, and the ESP32-S2 whose security info has no chip_id); and an ESP32-S2 whose magic
 * register cannot be read is in secure download mode.
 */
export function detectChip(evidence: DetectionEvidence): ChipDetection {
  const info = evidence.securityInfo ?? null
  if (info !== null && info.chipId !== null) return chipFromChipId(info.chipId)
  if (evidence.magicValue !== undefined && evidence.magicValue !== null) return chipFromMagicValue(evidence.magicValue)
  if (info !== null) return { ok: true, chip: chips['ESP32-S2'], via: 'secure-download-mode' }
  return { ok: false, reason: 'no-evidence', detail: 'Neither GET_SECURITY_INFO nor the magic register answered.' }
}

// ---------------------------------------------------------------------------------------------------------
// MAC address

/**
 * esptool read_mac: struct.pack('>II', high, low)[2:], i.e. the low 16 bits of the high word, then the low
 * word, most significant byte first. On ESP32 the top 16 bits of the high word are a CRC, dropped here.
 */
export function macAddressFromEfuse(highWord: number, lowWord: number): Uint8Array {
  return Uint8Array.of((highWord >>> 8) & 0xff, highWord & 0xff, (lowWord >>> 24) & 0xff, (lowWord >>> 16) & 0xff, (lowWord >>> 8) & 0xff, lowWord & 0xff)
}

export function formatMacAddress(mac: Uint8Array): string {
  return toHex(mac).replace(/(..)(?!$)/g, '$1:')
}

// ---------------------------------------------------------------------------------------------------------
// SPI flash id

/** esptool DETECTED_FLASH_SIZES: the JEDEC capacity byte → size in bytes. */
export const detectedFlashSizes: ReadonlyMap<number, number> = new Map([
  [0x12, 256 * 1024],
  [0x13, 512 * 1024],
  [0x14, 1 << 20],
  [0x15, 2 << 20],
  [0x16, 4 << 20],
  [0x17, 8 << 20],
  [0x18, 16 << 20],
  [0x19, 32 << 20],
  [0x1a, 64 << 20],
  [0x1b, 128 << 20],
  [0x1c, 256 << 20],
  [0x20, 64 << 20],
  [0x21, 128 << 20],
  [0x22, 256 << 20],
  [0x32, 256 * 1024],
  [0x33, 512 * 1024],
  [0x34, 1 << 20],
  [0x35, 2 << 20],
  [0x36, 4 << 20],
  [0x37, 8 << 20],
  [0x38, 16 << 20],
  [0x39, 32 << 20],
  [0x3a, 64 << 20],
])

export interface FlashId {
  readonly manufacturer: number
  readonly memoryType: number
  readonly capacityCode: number
  /** Null when esptool would print "Unknown". */
  readonly sizeBytes: number | null
}

/**
 * The 24-bit RDID (0x9F) answer as esptool's flash_id() returns it from SPI W0: manufacturer in the low
 * byte, then memory type, then the capacity byte that gives the size (esptool prints "Device: %02x%02x"
 * from the middle and top bytes).
 */
export function parseFlashId(flashId: number): FlashId {
  const capacityCode = (flashId >>> 16) & 0xff
  return {
    manufacturer: flashId & 0xff,
    memoryType: (flashId >>> 8) & 0xff,
    capacityCode,
    sizeBytes: detectedFlashSizes.get(capacityCode) ?? null,
  }
}

/** The flash size as esptool names it ("4MB"), for display. */
export function formatFlashSize(bytes: number): string {
  return bytes >= 1 << 20 ? `${bytes / (1 << 20)}MB` : `${bytes / 1024}KB`
}

export interface RegisterWrite {
  readonly address: number
  readonly value: number
  readonly mask?: number
  readonly delayUs?: number
}

/**
 * Register traffic for one SPI flash command that sends no data and reads back `readBits` (≤ 32), as
 * esptool's run_spiflash_command does it on ESP32 and later: save USR and USR2, run `setup` with
 * WRITE_REG, write `start`, poll `busyRegister` until `busyMask` clears, READ_REG `resultRegister`, then
 * write the saved USR and USR2 back.
 */
export interface SpiFlashCommandPlan {
  readonly saveRegisters: readonly number[]
  readonly setup: readonly RegisterWrite[]
  readonly start: RegisterWrite
  readonly busyRegister: number
  readonly busyMask: number
  readonly resultRegister: number
  readonly resultMask: number
}

export const spiFlashRdid = 0x9f

export type SpiFlashPlanResult = { readonly ok: true; readonly plan: SpiFlashCommandPlan } | { readonly ok: false; readonly detail: string }

export function spiFlashCommandPlan(chip: ChipDefinition, spiCommand: number, readBits: number): SpiFlashPlanResult {
  if (!Number.isInteger(spiCommand) || spiCommand < 0 || spiCommand > 0xff) return { ok: false, detail: `SPI flash command ${spiCommand} is not a byte.` }
  if (!Number.isInteger(readBits) || readBits < 0 || readBits > 32) {
    return { ok: false, detail: 'Reading more than 32 bits back from a SPI flash operation is unsupported (esptool).' }
  }
  // esptool loader.py run_spiflash_command constants.
  const SPI_USR_COMMAND = 1 << 31
  const SPI_USR_MISO = 1 << 28
  const SPI_USR2_COMMAND_LEN_SHIFT = 28
  const SPI_CMD_USR = 1 << 18
  const spi = chip.spi
  const setup: RegisterWrite[] = []
  if (readBits > 0) setup.push({ address: spi.misoDlen, value: readBits - 1 })
  setup.push({ address: spi.usr, value: (SPI_USR_COMMAND | (readBits > 0 ? SPI_USR_MISO : 0)) >>> 0 })
  setup.push({ address: spi.usr2, value: ((7 << SPI_USR2_COMMAND_LEN_SHIFT) | spiCommand) >>> 0 })
  // "clear data register before we read it"
  setup.push({ address: spi.w0, value: 0 })
  return {
    ok: true,
    plan: {
      saveRegisters: [spi.usr, spi.usr2],
      setup,
      start: { address: spi.base, value: SPI_CMD_USR },
      busyRegister: spi.base,
      busyMask: SPI_CMD_USR,
      resultRegister: spi.w0,
      resultMask: readBits === 32 ? 0xffffffff : (1 << readBits) - 1,
    },
  }
}
