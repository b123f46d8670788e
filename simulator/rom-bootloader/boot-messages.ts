// What each chip's mask ROM prints on UART0 after a reset, before any SLIP traffic. The console reads
// these lines (shared/domain/rom-bootloader/boot-log.ts, esptool's "boot:(0x..)(.*waiting for download)?")
// to tell "wrong boot mode" from "TX line down", so the emulated board prints them as real chips do.
//
// Banners and boot-mode values are copied from boot logs that engineers posted of real boards (Espressif's
// forum and esptool issues). ESP32, ESP32-S2, ESP32-S3, ESP32-C3 and ESP32-C6 were seen in such logs;
// the ESP32-C2 and ESP32-H2 lines follow the same ROM's pattern and were not checked against a board.

import type { ChipName } from '../../shared/domain/rom-bootloader/chips'
import { chips } from '../../shared/domain/rom-bootloader/chips'
import { parseAppImage } from '../../shared/domain/firmware/app-image'

export type ResetCause = 'power-on' | 'software'

interface RomMessages {
  /** Lines before "rst:", e.g. the ROM version and build date. */
  readonly banner: readonly string[]
  readonly resetCauses: Readonly<Record<ResetCause, string>>
  /** GPIO0 (GPIO9 on RISC-V chips) low at reset: the UART download mode. */
  readonly downloadBoot: string
  /** The strapping pin high: boot from SPI flash. */
  readonly flashBoot: string
}

const romMessages: Readonly<Record<ChipName, RomMessages>> = {
  ESP32: {
    banner: ['ets Jun  8 2016 00:22:57', ''],
    resetCauses: { 'power-on': 'rst:0x1 (POWERON_RESET)', software: 'rst:0xc (SW_CPU_RESET)' },
    downloadBoot: 'boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))',
    flashBoot: 'boot:0x13 (SPI_FAST_FLASH_BOOT)',
  },
  'ESP32-S2': {
    banner: ['ESP-ROM:esp32s2-rc4-20191025', 'Build:Oct 25 2019'],
    resetCauses: { 'power-on': 'rst:0x1 (POWERON)', software: 'rst:0x3 (RTC_SW_SYS_RST)' },
    downloadBoot: 'boot:0x0 (DOWNLOAD(USB/UART0/1/SPI))',
    flashBoot: 'boot:0x8 (SPI_FAST_FLASH_BOOT)',
  },
  'ESP32-S3': {
    banner: ['ESP-ROM:esp32s3-20210327', 'Build:Mar 27 2021'],
    resetCauses: { 'power-on': 'rst:0x1 (POWERON)', software: 'rst:0x3 (RTC_SW_SYS_RST)' },
    downloadBoot: 'boot:0x0 (DOWNLOAD(USB/UART0))',
    flashBoot: 'boot:0x8 (SPI_FAST_FLASH_BOOT)',
  },
  'ESP32-C2': {
    banner: ['ESP-ROM:esp8684-api2-20220127', 'Build:Jan 27 2022'],
    resetCauses: { 'power-on': 'rst:0x1 (POWERON)', software: 'rst:0x3 (RTC_SW_SYS_RST)' },
    downloadBoot: 'boot:0x4 (DOWNLOAD(UART0))',
    flashBoot: 'boot:0xc (SPI_FAST_FLASH_BOOT)',
  },
  'ESP32-C3': {
    banner: ['ESP-ROM:esp32c3-api1-20210207', 'Build:Feb  7 2021'],
    resetCauses: { 'power-on': 'rst:0x1 (POWERON)', software: 'rst:0x3 (RTC_SW_SYS_RST)' },
    downloadBoot: 'boot:0x4 (DOWNLOAD(USB/UART0/1))',
    flashBoot: 'boot:0xc (SPI_FAST_FLASH_BOOT)',
  },
  'ESP32-C6': {
    banner: ['ESP-ROM:esp32c6-20220919', 'Build:Sep 19 2022'],
    resetCauses: { 'power-on': 'rst:0x1 (POWERON)', software: 'rst:0x3 (LP_SW_HPSYS)' },
    downloadBoot: 'boot:0x4 (DOWNLOAD(USB/UART0/SDIO_FEI_FEO))',
    flashBoot: 'boot:0xc (SPI_FAST_FLASH_BOOT)',
  },
  'ESP32-H2': {
    banner: ['ESP-ROM:esp32h2-20221101', 'Build:Nov  1 2022'],
    resetCauses: { 'power-on': 'rst:0x1 (POWERON)', software: 'rst:0x3 (LP_SW_HPSYS)' },
    downloadBoot: 'boot:0x4 (DOWNLOAD(USB/UART0))',
    flashBoot: 'boot:0xc (SPI_FAST_FLASH_BOOT)',
  },
}

const crlf = '\r\n'

function lines(parts: readonly string[]): string {
  return parts.map((line) => `${line}${crlf}`).join('')
}

/** The ROM's message when it comes up in the UART download mode, ready for SYNC. */
export function downloadModeBootLog(chip: ChipName, cause: ResetCause): string {
  const rom = romMessages[chip]
  return lines([...rom.banner, `${rom.resetCauses[cause]},${rom.downloadBoot}`, 'waiting for download'])
}

/**
 * The ROM's message when it boots from flash. The ROM loads the second-stage bootloader from the chip's
 * bootloader offset: with a valid image there it prints each segment it loads and the entry point (that
 * much is the ROM's work, so the emulator can do it honestly); nothing runs after that. Erased or foreign
 * bytes there get the ROM's complaint instead (a real chip repeats it in a reset loop; printed once here).
 */
export function flashBootLog(chip: ChipName, cause: ResetCause, flash: Uint8Array, sha256: (bytes: Uint8Array) => Uint8Array): string {
  const rom = romMessages[chip]
  const head = [...rom.banner, `${rom.resetCauses[cause]},${rom.flashBoot}`]
  const offset = chips[chip].bootloaderOffset
  // The second-stage bootloader must fit below the partition table at 0x8000.
  const region = flash.subarray(offset, Math.min(flash.length, 0x8000))
  const firstWord = region.length >= 4 ? (region[0]! | (region[1]! << 8) | (region[2]! << 16) | (region[3]! << 24)) >>> 0 : 0xffffffff
  const parsed = parseAppImage(region, { sha256 })
  if (!parsed.ok) {
    if (chip === 'ESP32' && firstWord === 0xffffffff) return lines([...head, 'flash read err, 1000', 'ets_main.c 371 '])
    return lines([...head, `invalid header: 0x${firstWord.toString(16).padStart(8, '0')}`])
  }
  const image = parsed.image
  const mode = image.flashMode.name ?? 'DIO'
  const loads = image.segments.map((segment) => `load:0x${segment.loadAddress.toString(16).padStart(8, '0')},len:0x${segment.length.toString(16)}`)
  const spi = chip === 'ESP32' ? ['configsip: 0, SPIWP:0xee', `mode:${mode}, clock div:2`] : ['SPIWP:0xee', `mode:${mode}, clock div:1`]
  return lines([...head, ...spi, ...loads, `entry 0x${image.entryPoint.toString(16).padStart(8, '0')}`])
}
